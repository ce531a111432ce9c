// The declarative option schemas: one validator for every model (types, ranges, choices, text from
// the CLI), defaults merged from the schema, Object.prototype's names refused like any unknown option,
// and the defaults every model had before the schemas (so no model changed behaviour).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import type { OptionSchema } from '../../src/models/option-schema.js';
import { defaultsOf, describeOptions, resolveOptions } from '../../src/models/option-schema.js';
import { createModel, modelEntry, modelNames, optionDocs } from '../../src/models/registry.js';
import { MLP } from '../../src/models/neural/mlp.js';
import '../../src/index.js';

interface Toy {
  rate: number;
  count: number;
  steps: number | null;
  flag: boolean;
  mode: string;
  sizes: number[];
  shape: number[] | null;
  k: number;
  init: string | number[];
}

const TOY: OptionSchema<Toy> = {
  rate: { type: 'number', min: 0, minExclusive: true, max: 1, maxExclusive: true, default: 0.5, doc: 'a rate' },
  count: { type: 'integer', min: 1, default: 3, doc: 'a count' },
  steps: { type: 'integer', min: 1, nullable: true, default: null, doc: 'steps or null' },
  flag: { type: 'boolean', default: false, doc: 'a switch' },
  mode: { type: 'choice', choices: ['a', 'b'], default: 'a', doc: 'a mode' },
  sizes: { type: 'sizes', allowEmpty: true, default: [4, 2], doc: 'layer sizes' },
  shape: { type: 'sizes', length: 3, nullable: true, default: null, doc: 'an image shape' },
  k: { type: 'integer', min: 1, default: 2, doc: 'groups' },
  init: { type: 'choice-or-numbers', choices: ['auto'], multipleOf: 'k', default: 'auto', doc: 'init or k·cols values' },
};

const refusal =
  (field: string, pattern?: RegExp) =>
  (error: unknown): boolean =>
    error instanceof ConfigError && error.field === field && (pattern === undefined || pattern.test(error.message));

test('resolveOptions: defaults from the schema, given values checked and converted from CLI text', () => {
  assert.deepEqual(resolveOptions('toy', TOY, undefined), defaultsOf(TOY));
  const resolved = resolveOptions('toy', TOY, {
    rate: '0.25',
    count: 7,
    steps: '4',
    flag: 'true',
    sizes: '256,128',
    shape: '28x28x1',
    init: [1, 2, 3, 4],
    mode: undefined,
  });
  assert.deepEqual(resolved, {
    rate: 0.25,
    count: 7,
    steps: 4,
    flag: true,
    mode: 'a',
    sizes: [256, 128],
    shape: [28, 28, 1],
    k: 2,
    init: [1, 2, 3, 4],
  });
  assert.deepEqual(resolveOptions('toy', TOY, { sizes: '', init: Float64Array.of(1, 2) }).sizes, []);
  assert.ok(
    Array.isArray(resolveOptions('toy', TOY, { init: Float64Array.of(1, 2) }).init),
    'typed-array centres are stored as a plain array',
  );
  assert.equal(resolveOptions('toy', TOY, { sizes: 16 }).sizes[0], 16);
});

test('resolveOptions: each bad value is a ConfigError naming the field, with expected and found', () => {
  const cases: [Partial<Record<keyof Toy, unknown>>, keyof Toy, RegExp][] = [
    [{ rate: 0 }, 'rate', /must be a finite number > 0 and < 1, found 0/],
    [{ rate: 1 }, 'rate', /found 1$/],
    [{ rate: NaN }, 'rate', /found NaN/],
    [{ rate: '0x10' }, 'rate', /found '0x10'/],
    [{ rate: null }, 'rate', /found null/],
    [{ count: 2.5 }, 'count', /must be an integer ≥ 1, found 2\.5/],
    [{ count: 0 }, 'count', /≥ 1/],
    [{ steps: 0 }, 'steps', /an integer ≥ 1 or null/],
    [{ flag: 1 }, 'flag', /true or false, found 1/],
    [{ mode: 'c' }, 'mode', /one of a, b, found 'c'/],
    [{ sizes: '64,x' }, 'sizes', /whole numbers/],
    [{ sizes: [0] }, 'sizes', /whole numbers/],
    [{ shape: [4, 4] }, 'shape', /a list of 3 whole numbers/],
    [{ init: 'other' }, 'init', /one of auto, or k·cols numbers/],
    [{ init: [1, 2, 3] }, 'init', /found 3 values/],
    [{ init: [1, NaN] }, 'init', /not all finite/],
    [{ init: [] }, 'init', /found 0 values/],
  ];
  for (const [given, field, pattern] of cases) {
    assert.throws(() => resolveOptions('toy', TOY, given), refusal(field, pattern), JSON.stringify(given));
  }
});

test('every model refuses __proto__, constructor, toString, hasOwnProperty like any unknown option, listing its options', () => {
  const hostileKeys = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];
  for (const name of modelNames().filter((n) => modelEntry(n).options !== undefined)) {
    const valid = Object.keys(modelEntry(name).options!);
    for (const key of hostileKeys) {
      // Own keys of a parsed object, as a config file or a saved model's params would give them.
      const parsed = JSON.parse(`{"${key}": 1}`) as Record<string, unknown>;
      assert.ok(Object.hasOwn(parsed, key));
      assert.throws(
        () => createModel(name, parsed),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${name} ${key}: ${String(error)}`);
          assert.equal(error.field, key);
          assert.match(error.message, new RegExp(`has no option '${key}'; its options are: ${valid.join(', ')}`));
          return true;
        },
      );
    }
    // And as object-literal keys (constructor, toString as own properties with any value).
    assert.throws(() => createModel(name, { constructor: Object }), refusal('constructor'));
    assert.throws(() => createModel(name, { toString: () => 'x' }), refusal('toString'));
  }
});

test('the defaults merged from each schema are those every model had before the schemas', () => {
  const neural = {
    epochs: 10,
    lr: 0.001,
    batchSize: 64,
    optimizer: 'adam',
    momentum: 0.9,
    weightDecay: 0,
    schedule: 'constant',
    gamma: 0.1,
    stepEpochs: 1,
    clipNorm: 0,
    seed: 0,
    precision: 'float32',
  };
  const expected: Record<string, Record<string, unknown>> = {
    'linear-regression': { solver: 'exact', l2: 0, fitIntercept: true, epochs: 5, lr: 0.01, batchSize: 64, seed: 0 },
    'logistic-regression': {
      solver: 'lbfgs',
      l2: 1e-4,
      maxIter: 100,
      tol: 1e-6,
      fitIntercept: true,
      epochs: 5,
      lr: 0.01,
      batchSize: 64,
      seed: 0,
    },
    'linear-svm': { l2: 1e-4, epochs: 5, batchSize: 64, seed: 0, fitIntercept: true, lr: null },
    kmeans: { k: 8, init: 'k-means++', algorithm: 'hamerly', maxIter: 300, tol: 1e-4, seed: 0, oversampling: 2, rounds: 5 },
    pca: { components: 2, solver: 'full', oversamples: 10, powerIterations: 4, whiten: false, seed: 0 },
    mlp: { ...neural, hidden: [128], activation: 'relu', dropout: 0 },
    cnn: {
      ...neural,
      epochs: 3,
      inputShape: null,
      filters: [32, 64],
      kernelSize: 5,
      stride: 1,
      padding: 0,
      pool: 2,
      dense: [128],
      dropout: 0,
    },
    rnn: { ...neural, epochs: 5, cell: 'lstm', hidden: 128, layers: 1, steps: null, clipNorm: 5 },
  };
  for (const [name, defaults] of Object.entries(expected)) {
    assert.deepEqual({ ...createModel(name).params }, defaults, name);
  }
});

test('a list default is a fresh copy per model, never shared', () => {
  const a = new MLP();
  const b = new MLP();
  assert.notEqual(a.params.hidden, b.params.hidden);
  (a.params.hidden as number[]).push(7);
  assert.deepEqual(new MLP().params.hidden, [128]);
});

test('optionDocs lists every option of every model from its schema: name, type in words, default, doc', () => {
  for (const name of modelNames().filter((n) => modelEntry(n).options !== undefined)) {
    const docs = optionDocs(name);
    assert.deepEqual(
      docs.map((d) => d.name),
      Object.keys(createModel(name).params),
      name,
    );
    for (const doc of docs) {
      assert.ok(doc.doc.length > 5, `${name}.${doc.name} has a doc line`);
      assert.ok(doc.type.length > 0);
    }
  }
  const k = optionDocs('kmeans').find((d) => d.name === 'k')!;
  assert.deepEqual(k, { name: 'k', type: 'an integer ≥ 1', default: 8, doc: 'number of clusters' });
  assert.equal(describeOptions(TOY).find((d) => d.name === 'rate')!.type, 'a finite number > 0 and < 1');
  assert.throws(() => optionDocs('random-forest'), ConfigError);
});
