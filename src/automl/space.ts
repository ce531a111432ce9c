/**
 * Search spaces: what a study may set each hyperparameter to. Parsed from JSON (a file given to
 * `shardlearn tune --space`, or an object from the library), validated with errors that name the
 * field, sampled through the seeded `Rng`, and enumerated for grid search.
 *
 * A space maps a model option to a domain or to a fixed value:
 * ```json
 * {
 *   "solver":  { "type": "choice", "values": ["lbfgs", "sgd"] },
 *   "l2":      { "type": "log-uniform", "low": 1e-5, "high": 1 },
 *   "lr":      { "type": "uniform", "low": 0.001, "high": 0.1, "when": { "solver": "sgd" } },
 *   "epochs":  { "type": "int", "low": 2, "high": 20 },
 *   "seed": 0
 * }
 * ```
 * `when` makes a parameter conditional (Optuna's define-by-run `if`, Hyperopt's nested choice): it
 * is set only when every named parameter has one of the listed values, else it is left out (the
 * model's default applies). A condition may only name a `choice` or fixed parameter declared
 * before it (a list value is written inside an array: `"when": { "hidden": [[64, 32]] }`). A
 * number list is a value too, for list-valued options: `"hidden": { "type": "choice", "values":
 * [[32], [64, 32]] }`. For grid search, `uniform`/`log-uniform` give `steps` points (default 3) and `int`
 * gives every integer of its range (or `steps` of them, evenly spread).
 *
 * @example
 * const space = parseSpace(JSON.parse(text), 'space.json');
 * const params = sampleSpace(space, new Rng(1)); // { solver: 'sgd', l2: 0.0031, lr: 0.042, ... }
 * gridOf(space).length; // every combination grid search visits
 */
import { ConfigError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** A number list is for list-valued options (an MLP's `hidden` layer sizes). */
export type ParamValue = number | string | boolean | readonly number[];
export type Params = Record<string, ParamValue>;

/** `when`: parameter name → the values it must take for this parameter to exist. */
export type Condition = Readonly<Record<string, readonly ParamValue[]>>;

export type Domain =
  | { type: 'uniform'; low: number; high: number; steps: number }
  | { type: 'log-uniform'; low: number; high: number; steps: number }
  | { type: 'int'; low: number; high: number; log: boolean; steps: number | null }
  | { type: 'choice'; values: readonly ParamValue[] }
  | { type: 'fixed'; value: ParamValue };

export interface SpaceParam {
  name: string;
  domain: Domain;
  when: Condition | null;
}

/** Parameters in declaration order (a condition only looks back). */
export interface SearchSpace {
  readonly params: readonly SpaceParam[];
  /** Where the space came from (a file path or 'space'), for error messages. */
  readonly source: string;
}

export const DOMAIN_TYPES = ['uniform', 'log-uniform', 'int', 'choice'] as const;
const DEFAULT_STEPS = 3;

function fail(source: string, field: string, expected: string, found: unknown): never {
  const shown = JSON.stringify(found) ?? String(found);
  throw new ConfigError(`${source}: '${field}' must be ${expected}, found ${shown.length > 60 ? `${shown.slice(0, 60)}…` : shown}`, {
    field,
  });
}

function isScalar(value: unknown): value is number | string | boolean {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string' || typeof value === 'boolean';
}

function isValue(value: unknown): value is ParamValue {
  return isScalar(value) || (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'number' && Number.isFinite(v)));
}

/** Whether `values` holds `value` (lists compared element by element). */
function holds(values: readonly ParamValue[], value: ParamValue): boolean {
  const key = JSON.stringify(value);
  return values.some((v) => JSON.stringify(v) === key);
}

function finite(source: string, field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(source, field, 'a finite number', value);
  return value;
}

function parseSteps(source: string, field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(source, field, 'a whole number ≥ 1', value);
  return value;
}

const DOMAIN_KEYS: Record<(typeof DOMAIN_TYPES)[number], readonly string[]> = {
  uniform: ['type', 'low', 'high', 'steps', 'when'],
  'log-uniform': ['type', 'low', 'high', 'steps', 'when'],
  int: ['type', 'low', 'high', 'log', 'steps', 'when'],
  choice: ['type', 'values', 'when'],
};

function parseDomain(source: string, name: string, raw: Record<string, unknown>): Domain {
  const type = raw['type'];
  if (typeof type !== 'string' || !(DOMAIN_TYPES as readonly string[]).includes(type)) {
    fail(source, `${name}.type`, `one of ${DOMAIN_TYPES.join(', ')}`, type);
  }
  const kind = type as (typeof DOMAIN_TYPES)[number];
  for (const key of Object.keys(raw)) {
    if (!DOMAIN_KEYS[kind].includes(key))
      fail(source, `${name}.${key}`, `absent (a '${kind}' domain takes ${DOMAIN_KEYS[kind].join(', ')})`, raw[key]);
  }
  if (kind === 'choice') {
    const values = raw['values'];
    if (!Array.isArray(values) || values.length === 0) fail(source, `${name}.values`, 'a non-empty array', values);
    values.forEach((value, i) => {
      if (!isValue(value)) fail(source, `${name}.values[${i}]`, 'a number, string, boolean or list of numbers', value);
    });
    return { type: 'choice', values: values as ParamValue[] };
  }
  const low = finite(source, `${name}.low`, raw['low']);
  const high = finite(source, `${name}.high`, raw['high']);
  if (!(low <= high)) fail(source, `${name}.high`, `≥ low (${low})`, high);
  const steps = parseSteps(source, `${name}.steps`, raw['steps']);
  if (kind === 'int') {
    if (!Number.isInteger(low)) fail(source, `${name}.low`, 'a whole number', low);
    if (!Number.isInteger(high)) fail(source, `${name}.high`, 'a whole number', high);
    const log = raw['log'] ?? false;
    if (typeof log !== 'boolean') fail(source, `${name}.log`, 'true or false', log);
    if (log && low < 1) fail(source, `${name}.low`, 'a whole number ≥ 1 when log is true', low);
    return { type: 'int', low, high, log, steps: steps ?? null };
  }
  if (kind === 'log-uniform' && !(low > 0)) fail(source, `${name}.low`, 'a number > 0 (a log-uniform range cannot reach 0)', low);
  return { type: kind, low, high, steps: steps ?? DEFAULT_STEPS };
}

function parseCondition(source: string, name: string, raw: unknown, declared: ReadonlyMap<string, SpaceParam>): Condition {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.keys(raw).length === 0) {
    fail(source, `${name}.when`, 'an object naming earlier parameters, e.g. { "solver": "sgd" }', raw);
  }
  const condition: Record<string, readonly ParamValue[]> = {};
  for (const [other, wanted] of Object.entries(raw)) {
    const field = `${name}.when.${other}`;
    const parent = declared.get(other);
    if (parent === undefined) fail(source, field, 'a parameter declared before this one', other);
    // One value or an array of them; a list-valued option's value goes inside an array: [[32, 16]].
    const values = Array.isArray(wanted) ? (wanted as unknown[]) : [wanted];
    if (values.length === 0) fail(source, field, 'a value or a non-empty array of values', wanted);
    const possible = parent.domain.type === 'choice' ? parent.domain.values : parent.domain.type === 'fixed' ? [parent.domain.value] : null;
    if (possible === null)
      fail(source, field, `a condition on a 'choice' or fixed parameter ('${other}' is '${parent.domain.type}')`, wanted);
    for (const value of values) {
      if (!isValue(value) || !holds(possible, value)) fail(source, field, `one of ${JSON.stringify(possible)}`, value);
    }
    condition[other] = values as ParamValue[];
  }
  return condition;
}

/**
 * A search space from parsed JSON. Throws a ConfigError naming the field at fault
 * (`space.json: 'lr.low' must be a finite number, found "0.1"`).
 */
export function parseSpace(raw: unknown, source = 'space'): SearchSpace {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    fail(source, '(top level)', 'an object mapping option names to domains', raw);
  const declared = new Map<string, SpaceParam>();
  for (const [name, entry] of Object.entries(raw)) {
    let param: SpaceParam;
    if (isValue(entry)) {
      param = { name, domain: { type: 'fixed', value: entry }, when: null };
    } else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      const record = entry as Record<string, unknown>;
      const domain = parseDomain(source, name, record);
      const when = record['when'] === undefined ? null : parseCondition(source, name, record['when'], declared);
      param = { name, domain, when };
    } else {
      fail(source, name, 'a domain object ({ "type": "uniform", … }) or a fixed number, string, boolean or list of numbers', entry);
    }
    declared.set(name, param);
  }
  if (declared.size === 0) fail(source, '(top level)', 'at least one parameter', raw);
  return { params: [...declared.values()], source };
}

function active(param: SpaceParam, chosen: Params): boolean {
  if (param.when === null) return true;
  return Object.entries(param.when).every(([other, values]) => other in chosen && holds(values, chosen[other]!));
}

function sampleDomain(domain: Domain, rng: Rng): ParamValue {
  switch (domain.type) {
    case 'fixed':
      return domain.value;
    case 'choice':
      return domain.values[rng.int(domain.values.length)]!;
    case 'uniform':
      return domain.low + (domain.high - domain.low) * rng.uniform();
    case 'log-uniform':
      return Math.exp(Math.log(domain.low) + (Math.log(domain.high) - Math.log(domain.low)) * rng.uniform());
    case 'int':
      if (!domain.log) return domain.low + rng.int(domain.high - domain.low + 1);
      // Uniform in log(low - 0.5)..log(high + 0.5), rounded: each integer's share is its log-width.
      return Math.min(
        domain.high,
        Math.max(
          domain.low,
          Math.round(Math.exp(Math.log(domain.low - 0.5) + (Math.log(domain.high + 0.5) - Math.log(domain.low - 0.5)) * rng.uniform())),
        ),
      );
    default:
      throw new ConfigError(`unknown domain ${JSON.stringify(domain)}`);
  }
}

/** One point of the space, drawn with `rng`; conditional parameters appear only when active. */
export function sampleSpace(space: SearchSpace, rng: Rng): Params {
  const chosen: Params = {};
  for (const param of space.params) {
    if (active(param, chosen)) chosen[param.name] = sampleDomain(param.domain, rng);
  }
  return chosen;
}

/** The grid values of one domain. */
export function gridValues(domain: Domain): ParamValue[] {
  switch (domain.type) {
    case 'fixed':
      return [domain.value];
    case 'choice':
      return [...domain.values];
    case 'uniform':
      return spread(domain.steps, (t) => domain.low + (domain.high - domain.low) * t);
    case 'log-uniform':
      return spread(domain.steps, (t) => Math.exp(Math.log(domain.low) + (Math.log(domain.high) - Math.log(domain.low)) * t));
    case 'int': {
      const count = domain.high - domain.low + 1;
      if (domain.steps === null || domain.steps >= count) return Array.from({ length: count }, (_, i) => domain.low + i);
      const at = (t: number): number =>
        domain.log
          ? Math.exp(Math.log(domain.low) + (Math.log(domain.high) - Math.log(domain.low)) * t)
          : domain.low + (domain.high - domain.low) * t;
      return [...new Set(spread(domain.steps, (t) => Math.round(at(t))))];
    }
    default:
      throw new ConfigError(`unknown domain ${JSON.stringify(domain)}`);
  }
}

function spread(steps: number, at: (t: number) => number): number[] {
  if (steps === 1) return [at(0.5)];
  return Array.from({ length: steps }, (_, i) => at(i / (steps - 1)));
}

/**
 * Every combination of the grid values, in declaration order (the last parameter varies fastest, as
 * scikit-learn's ParameterGrid). An inactive conditional parameter is left out, so a combination
 * is never repeated with only an unused parameter changed.
 */
export function gridOf(space: SearchSpace): Params[] {
  let points: Params[] = [{}];
  for (const param of space.params) {
    const values = gridValues(param.domain);
    points = points.flatMap((point) => (active(param, point) ? values.map((value) => ({ ...point, [param.name]: value })) : [point]));
  }
  return points;
}

/** A stable text key of a point (sorted keys), to recognise a configuration seen before. */
export function paramsKey(params: Params): string {
  return JSON.stringify(
    Object.keys(params)
      .sort()
      .map((key) => [key, params[key]]),
  );
}
