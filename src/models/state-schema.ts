/**
 * One declarative schema per model for its learned state, checked when a saved model is loaded: a
 * model file is input like any other, and a truncated array, an empty class list or a wrong type
 * must fail naming the file and the field, not predict zeros, NaN or null.
 *
 * A schema lists every field in order (later fields may refer to earlier ones and to the params):
 * - `floats`: a Float64Array, every value finite unless `finite: false`; `length` or `multipleOf`
 *   a relation to other fields (`centers.length == k·cols`), `minLength`, `increasing` (sorted
 *   class values);
 * - `int` / `number`: one number (finite), with a lower bound;
 * - `ints`: a JSON list of whole numbers (a shape), each ≥ `min`;
 * - `check`: anything else, by a function returning what was expected when the value is wrong
 *   (a neural network's layer list).
 * A state holding a key the schema does not list (`__proto__` included) is refused too.
 *
 * @example
 * const STATE: StateSchema<KMeansState, KMeansParams> = {
 *   cols: { type: 'int', min: 1 },
 *   centers: { type: 'floats', length: { as: 'k·cols', is: (s, p) => p.k * s.cols } },
 *   …
 * };
 */
import { ShardlearnError } from '../core/errors.js';

/** A relation a length must satisfy, with how to say it in an error ('k·cols'). */
export interface LengthRelation<S, P> {
  as: string;
  is(state: S, params: P): number;
}

export type StateField<S, P> =
  | {
      type: 'floats';
      finite?: boolean;
      minLength?: number;
      length?: LengthRelation<S, P>;
      multipleOf?: LengthRelation<S, P>;
      increasing?: boolean;
    }
  | { type: 'int'; min?: number }
  | { type: 'number'; min?: number }
  | { type: 'ints'; min?: number; minLength?: number }
  | { type: 'check'; expected: string; check(value: unknown, state: S, params: P): string | null };

/** A field spec for every key of the state; the compiler checks none is missing. */
export type StateSchema<S, P = unknown> = { readonly [K in keyof S]-?: StateField<S, P> };

/** Any model's state schema, as the registry holds it. */
export type AnyStateSchema = Readonly<Record<string, StateField<never, never>>>;

/** A model file that cannot be used: `file` and `field` (e.g. 'state.centers', 'params.k') name the fault. */
export class ModelFormatError extends ShardlearnError {
  readonly file: string;
  readonly field: string | undefined;

  constructor(file: string, field: string | undefined, message: string, options: { cause?: unknown } = {}) {
    super('MODEL_FORMAT', `${file}: ${field === undefined ? '' : `field '${field}': `}${message}`, options);
    this.file = file;
    this.field = field;
  }
}

/**
 * Check `state` (decoded from `file`) against `schema`, with the model's params for the relations;
 * throws ModelFormatError naming `file` and `state.<field>`.
 */
export function checkState(schema: AnyStateSchema, state: unknown, params: object, file: string): object {
  if (state === null || typeof state !== 'object' || Array.isArray(state) || ArrayBuffer.isView(state)) {
    throw new ModelFormatError(file, 'state', `expected an object of ${Object.keys(schema).join(', ')}, found ${describe(state)}`);
  }
  const record = state as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(schema, key)) {
      throw new ModelFormatError(
        file,
        `state.${key}`,
        `not a field of this model's state; expected only ${Object.keys(schema).join(', ')}`,
      );
    }
  }
  for (const [name, spec] of Object.entries(schema as Record<string, StateField<unknown, unknown>>)) {
    if (!Object.hasOwn(record, name)) throw new ModelFormatError(file, `state.${name}`, 'missing');
    const problem = checkField(spec, record[name], state, params);
    if (problem !== null) throw new ModelFormatError(file, `state.${name}`, problem);
  }
  return state;
}

/** What is wrong with `value` as `spec`, or null when it is right. */
function checkField<S, P>(spec: StateField<S, P>, value: unknown, state: S, params: P): string | null {
  switch (spec.type) {
    case 'floats': {
      if (!(value instanceof Float64Array)) return `expected a Float64Array, found ${describe(value)}`;
      if (spec.finite !== false) {
        const at = value.findIndex((v) => !Number.isFinite(v));
        if (at >= 0) return `expected finite numbers, found ${value[at]} at index ${at}`;
      }
      if (spec.minLength !== undefined && value.length < spec.minLength)
        return `expected at least ${spec.minLength} values, found ${value.length}`;
      if (spec.length !== undefined) {
        const expected = spec.length.is(state, params);
        if (value.length !== expected) return `expected ${spec.length.as} = ${expected} values, found ${value.length}`;
      }
      if (spec.multipleOf !== undefined) {
        const unit = spec.multipleOf.is(state, params);
        if (unit < 1 || value.length % unit !== 0)
          return `expected a multiple of ${spec.multipleOf.as} = ${unit} values, found ${value.length}`;
      }
      if (spec.increasing === true) {
        for (let i = 1; i < value.length; i++) {
          if (!(value[i]! > value[i - 1]!))
            return `expected strictly increasing values, found ${value[i - 1]} then ${value[i]} at index ${i}`;
        }
      }
      return null;
    }
    case 'int':
    case 'number': {
      const word = spec.type === 'int' ? 'an integer' : 'a finite number';
      const ok = typeof value === 'number' && Number.isFinite(value) && (spec.type === 'number' || Number.isInteger(value));
      if (!ok) return `expected ${word}, found ${describe(value)}`;
      if (spec.min !== undefined && value < spec.min) return `expected ${word} ≥ ${spec.min}, found ${value}`;
      return null;
    }
    case 'ints': {
      const min = spec.min ?? -Infinity;
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= min)) {
        return `expected a list of integers${min > -Infinity ? ` ≥ ${min}` : ''}, found ${describe(value)}`;
      }
      if (spec.minLength !== undefined && value.length < spec.minLength)
        return `expected at least ${spec.minLength} integers, found ${value.length}`;
      return null;
    }
    case 'check': {
      const problem = spec.check(value, state, params);
      return problem === null ? null : `expected ${spec.expected}: ${problem}`;
    }
  }
}

/** A value in a few words for an error message. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length <= 8 ? JSON.stringify(value) : `a list of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `'${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'object') return value instanceof ArrayBuffer ? 'an ArrayBuffer' : 'an object';
  return `${typeof value} ${String(value)}`;
}
