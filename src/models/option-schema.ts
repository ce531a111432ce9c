/**
 * One declarative option schema per model: each hyperparameter's type, range or choices, default and
 * doc line, read by one generic validator (`resolveOptions`) and by the help text (`describeOptions`).
 * A model declares its schema beside its Params interface; nothing else checks options.
 *
 * - Unknown keys are refused with the list of valid ones. Keys are looked up as *own* properties of
 *   the schema, so `__proto__`, `constructor`, `toString` or `hasOwnProperty` (inherited from
 *   Object.prototype, or an own key of a JSON.parse'd object) are refused like any misspelt option.
 * - Defaults are merged here, once (`defaultsOf`); list defaults are copied, never shared.
 * - Text is converted where the option is read: a CLI flag's '0.5' for a number, 'true' for a
 *   boolean, '256,128' or '28x28x1' for a list of sizes.
 * - Every failure is a ConfigError naming the field, with what was expected and what was found.
 *
 * @example
 * const OPTIONS = { k: { type: 'integer', min: 1, default: 8, doc: 'number of clusters' } } satisfies OptionSchema<{ k: number }>;
 * resolveOptions('kmeans', OPTIONS, { k: 3 }); // { k: 3 }
 * resolveOptions('kmeans', OPTIONS, JSON.parse('{"__proto__": 1}')); // ConfigError: kmeans has no option '__proto__'; its options are: k
 */
import { ConfigError, assertUnreachable } from '../core/errors.js';

interface Documented {
  /** One line for `shardlearn info` and the CLI's per-model help. */
  doc: string;
}

/** A finite number in [min, max] (either end open when `minExclusive` / `maxExclusive`); null allowed when `nullable`. */
export interface NumberOption extends Documented {
  type: 'number';
  min?: number;
  minExclusive?: boolean;
  max?: number;
  maxExclusive?: boolean;
  nullable?: boolean;
  default: number | null;
}

/** A whole number in [min, max]; null allowed when `nullable`. */
export interface IntegerOption extends Documented {
  type: 'integer';
  min?: number;
  max?: number;
  nullable?: boolean;
  default: number | null;
}

export interface BooleanOption extends Documented {
  type: 'boolean';
  default: boolean;
}

export interface ChoiceOption extends Documented {
  type: 'choice';
  choices: readonly string[];
  default: string;
}

/**
 * A list of whole numbers ≥ 1 (layer sizes, an image shape), given as an array, one number, or text
 * separated by commas or 'x'. `length` fixes the count; empty lists only with `allowEmpty`.
 */
export interface SizesOption extends Documented {
  type: 'sizes';
  allowEmpty?: boolean;
  length?: number;
  nullable?: boolean;
  default: readonly number[] | null;
}

/**
 * One of `choices`, or (library API) a non-empty list of finite numbers whose length is a multiple of
 * the integer option `multipleOf` (k-means' initial centres: k·cols values). Lists are stored as
 * plain arrays, so they travel to workers and into saved models as JSON.
 */
export interface ChoiceOrNumbersOption extends Documented {
  type: 'choice-or-numbers';
  choices: readonly string[];
  multipleOf: string;
  default: string;
}

export type OptionSpec = NumberOption | IntegerOption | BooleanOption | ChoiceOption | SizesOption | ChoiceOrNumbersOption;

/** A spec for every key of the model's Params; the compiler checks none is missing. */
export type OptionSchema<P> = { readonly [K in keyof P]-?: OptionSpec };

/** Any model's option schema, as the registry holds it. */
export type AnyOptionSchema = Readonly<Record<string, OptionSpec>>;

/** The option described for help text: name, type and range in words, default, doc. */
export interface OptionDoc {
  name: string;
  type: string;
  default: unknown;
  doc: string;
}

/** The defaults of every option, fresh copies (a list default is never shared between models). */
export function defaultsOf<P>(schema: OptionSchema<P>): P {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries<OptionSpec>(schema)) out[name] = copy(spec.default);
  return out as P;
}

/**
 * Validate `given` against `schema` and merge it over the defaults. `undefined` values take the
 * default. Returns a new object holding exactly the schema's keys, each converted and checked.
 */
export function resolveOptions<P>(model: string, schema: OptionSchema<P>, given: object | undefined): P {
  const merged: Record<string, unknown> = defaultsOf(schema) as Record<string, unknown>;
  const supplied = given ?? {};
  for (const key of Object.keys(supplied)) {
    if (!Object.hasOwn(schema, key)) throw new NotAnOptionError(model, key, Object.keys(schema));
    const value = (supplied as Record<string, unknown>)[key];
    if (value !== undefined) merged[key] = value;
  }
  const specs = schema as Record<string, OptionSpec>;
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'choice-or-numbers') continue; // after the option it is a multiple of
    merged[name] = checkOption(model, name, spec, merged[name]);
  }
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.type === 'choice-or-numbers') merged[name] = checkChoiceOrNumbers(model, name, spec, merged[name], merged[spec.multipleOf]);
  }
  return merged as P;
}

/** Each option in words, for `shardlearn info` and the per-model help. */
export function describeOptions(schema: AnyOptionSchema): OptionDoc[] {
  return Object.entries<OptionSpec>(schema).map(([name, spec]) => ({
    name,
    type: describeType(spec),
    default: copy(spec.default),
    doc: spec.doc,
  }));
}

/** A spec's type and range in words: 'number > 0', 'integer ≥ 1', 'one of adam, sgd', … */
export function describeType(spec: OptionSpec): string {
  const orNull = 'nullable' in spec && spec.nullable === true ? ' or null' : '';
  switch (spec.type) {
    case 'number':
    case 'integer': {
      const bounds: string[] = [];
      if (spec.min !== undefined) bounds.push(`${spec.type === 'number' && spec.minExclusive === true ? '>' : '≥'} ${spec.min}`);
      if (spec.max !== undefined) bounds.push(`${spec.type === 'number' && spec.maxExclusive === true ? '<' : '≤'} ${spec.max}`);
      const word = spec.type === 'number' ? 'a finite number' : 'an integer';
      return `${word}${bounds.length === 0 ? '' : ` ${bounds.join(' and ')}`}${orNull}`;
    }
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${spec.choices.join(', ')}`;
    case 'sizes': {
      const count = spec.length !== undefined ? `${spec.length} ` : '';
      return `a list of ${count}whole numbers ≥ 1 (e.g. 128,64)${orNull}`;
    }
    case 'choice-or-numbers':
      return `one of ${spec.choices.join(', ')}, or ${spec.multipleOf}·cols numbers`;
  }
}

function checkOption(model: string, name: string, spec: Exclude<OptionSpec, ChoiceOrNumbersOption>, value: unknown): unknown {
  const fail = (): never => {
    throw new ConfigError(`${model}: option '${name}' must be ${describeType(spec)}, found ${show(value)}`, { field: name });
  };
  switch (spec.type) {
    case 'number':
    case 'integer': {
      if (value === null && spec.nullable === true) return null;
      const number = typeof value === 'string' ? numberFromText(value) : value;
      if (typeof number !== 'number' || !Number.isFinite(number)) return fail();
      if (spec.type === 'integer' && !Number.isInteger(number)) return fail();
      const minExclusive = spec.type === 'number' && spec.minExclusive === true;
      const maxExclusive = spec.type === 'number' && spec.maxExclusive === true;
      if (spec.min !== undefined && (minExclusive ? !(number > spec.min) : !(number >= spec.min))) return fail();
      if (spec.max !== undefined && (maxExclusive ? !(number < spec.max) : !(number <= spec.max))) return fail();
      return number;
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      return fail();
    case 'choice':
      if (typeof value !== 'string' || !spec.choices.includes(value)) return fail();
      return value;
    case 'sizes': {
      if (value === null && spec.nullable === true) return null;
      const list = sizesFrom(value);
      if (list === null) return fail();
      if (!list.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 1)) return fail();
      if (list.length === 0 && spec.allowEmpty !== true) return fail();
      if (spec.length !== undefined && list.length !== spec.length) return fail();
      return list;
    }
    default:
      return assertUnreachable(spec, 'option spec');
  }
}

function checkChoiceOrNumbers(model: string, name: string, spec: ChoiceOrNumbersOption, value: unknown, divisor: unknown): unknown {
  if (typeof value === 'string') {
    if (spec.choices.includes(value)) return value;
    throw new ConfigError(`${model}: option '${name}' must be ${describeType(spec)}, found ${show(value)}`, { field: name });
  }
  const list = Array.isArray(value)
    ? value
    : ArrayBuffer.isView(value) && !(value instanceof DataView)
      ? Array.from(value as unknown as ArrayLike<number>)
      : null;
  const k = typeof divisor === 'number' && divisor >= 1 ? divisor : 1;
  if (list === null || list.length === 0 || list.length % k !== 0 || !list.every((n) => typeof n === 'number' && Number.isFinite(n))) {
    const found =
      list === null
        ? show(value)
        : `${list.length} values${list.every((n) => typeof n === 'number' && Number.isFinite(n)) ? '' : ' (not all finite numbers)'}`;
    throw new ConfigError(
      `${model}: option '${name}' must be ${describeType(spec)} (${spec.multipleOf} = ${show(divisor)}), found ${found}`,
      { field: name },
    );
  }
  return list as number[];
}

function sizesFrom(value: unknown): unknown[] | null {
  if (Array.isArray(value)) return [...value] as unknown[];
  if (typeof value === 'number') return [value];
  if (typeof value === 'string') return value.trim() === '' ? [] : value.split(/[,x×]/).map((part) => numberFromText(part));
  return null;
}

/** A number written as text ('0.5', '1e-3'); NaN for anything else (blank, '0x10', 'abc'). */
function numberFromText(text: string): number {
  const trimmed = text.trim();
  return trimmed === '' || !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(trimmed) ? NaN : Number(trimmed);
}

function show(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return JSON.stringify(value);
  if (value !== null && typeof value === 'object') return ArrayBuffer.isView(value) ? value.constructor.name : 'an object';
  return String(value);
}

function copy<T>(value: T): T {
  return (Array.isArray(value) ? [...(value as unknown[])] : value) as T;
}

export class NotAnOptionError extends ConfigError {
  constructor(modelName: string, key: string, known: string[]) {
    super(`${modelName} has no option '${key}'; its options are: ${known.join(', ')}`, { field: key });
  }
}
