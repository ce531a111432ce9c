// Hostile model files: every one must fail on load with a ModelFormatError (exit 3 from the CLI)
// naming the file and the field — never predict zeros, NaN or null. Each file is a real saved model
// edited the way a truncated download, a hand edit or an attacker would edit it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';
import { KMeans } from '../../src/models/kmeans/kmeans.js';
import { LinearRegression } from '../../src/models/linear/linear-regression.js';
import { LogisticRegression } from '../../src/models/linear/logistic-regression.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { PCA } from '../../src/models/pca/pca.js';
import { deserializeDocument, serializeModel } from '../../src/models/persist.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { ModelFormatError } from '../../src/models/state-schema.js';
import '../../src/index.js';

const FILE = 'hostile.json';

function blobs(): Dataset {
  const rows = 40;
  const x = new Float64Array(rows * 2);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const label = i % 3;
    x[i * 2] = label * 4 + (i % 5) * 0.1;
    x[i * 2 + 1] = -label * 3 + (i % 7) * 0.1;
    y[i] = label;
  }
  return new Dataset({ x, y, rows, cols: 2 });
}

function typed(values: number[], name = 'Float64Array'): { $typed: string; base64: string } {
  return { $typed: name, base64: Buffer.from(Float64Array.from(values).buffer).toString('base64') };
}

type Document = { model: string; params: Record<string, unknown>; state: Record<string, unknown> } & Record<string, unknown>;

/** The saved document of `model`, edited by `edit`, as text. */
function edited(model: AnyEstimator, edit: (document: Document) => void): string {
  const document = JSON.parse(serializeModel(model)) as Document;
  edit(document);
  return JSON.stringify(document);
}

function assertRefused(text: string, field: string, pattern?: RegExp): void {
  assert.throws(
    () => deserializeDocument(text, FILE),
    (error: unknown) => {
      assert.ok(error instanceof ModelFormatError, `expected ModelFormatError for ${field}, got ${String(error)}`);
      assert.equal(error.code, 'MODEL_FORMAT');
      assert.equal(error.file, FILE);
      assert.equal(error.field, field, error.message);
      assert.ok(error.message.startsWith(`${FILE}: field '${field}'`), error.message);
      if (pattern !== undefined) assert.match(error.message, pattern);
      return true;
    },
  );
}

test('kmeans: truncated centres, a ragged byte count, wrong types and NaN each fail naming the field', async () => {
  const data = blobs();
  const model = await new KMeans({ k: 3, seed: 1 }).fit(data);
  // The untouched file loads and predicts as the original (the checks refuse nothing valid).
  assert.deepEqual(deserializeDocument(serializeModel(model), FILE).model.predict(data), model.predict(data));
  assertRefused(
    edited(model, (d) => {
      d.state['centers'] = typed([0, 0, 1, 1]);
    }),
    'state.centers',
    /k·cols = 6 values, found 4/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['centers'] = { $typed: 'Float64Array', base64: Buffer.alloc(20).toString('base64') };
    }),
    'state.centers',
    /20 bytes/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['centers'] = [0, 0, 1, 1, 2, 2];
    }),
    'state.centers',
    /expected a Float64Array, found \[0,0,1,1,2,2\]/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['centers'] = typed([0, 0, 1, 1, 2, 2], 'Float32Array');
    }),
    'state.centers',
    /48 bytes|Float32Array/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['centers'] = typed([0, NaN, 1, 1, 2, 2]);
    }),
    'state.centers',
    /finite numbers, found NaN at index 1/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['cols'] = '2';
    }),
    'state.cols',
    /an integer, found '2'/,
  );
  assertRefused(
    edited(model, (d) => {
      delete d.state['inertia'];
    }),
    'state.inertia',
    /missing/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['inertia'] = { $number: 'abc' };
    }),
    'state.inertia',
    /\$number must be NaN, Infinity or -Infinity/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['inertia'] = { $number: 'NaN' };
    }),
    'state.inertia',
    /a finite number, found number NaN/,
  );
  assertRefused(
    edited(model, (d) => {
      d.params['k'] = 2;
    }),
    'state.centers',
    /k·cols = 4 values, found 6/,
  );
  assertRefused(
    edited(model, (d) => {
      d.params['k'] = 0;
    }),
    'params.k',
    /option 'k' must be an integer ≥ 1/,
  );
});

test('$typed: "constructor" (or toString, __proto__) is refused, never looked up on Object.prototype', async () => {
  const model = await new LogisticRegression({ maxIter: 5 }).fit(blobs());
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'Float16Array']) {
    assertRefused(
      edited(model, (d) => {
        d.state['weights'] = { $typed: name, base64: 'AAAAAAAAAAA=' };
      }),
      'state.weights',
      /unknown typed array/,
    );
  }
  assertRefused(
    edited(model, (d) => {
      d.state['weights'] = { $typed: 'Float64Array' };
    }),
    'state.weights',
    /without its base64/,
  );
});

test('logistic regression: empty classes, unsorted classes and intercepts that do not match the classes each fail naming the field', async () => {
  const model = await new LogisticRegression({ maxIter: 5 }).fit(blobs());
  assertRefused(
    edited(model, (d) => {
      d.state['classes'] = typed([]);
    }),
    'state.classes',
    /at least 2 values, found 0/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['classes'] = typed([0, 2, 1]);
    }),
    'state.classes',
    /strictly increasing/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['intercepts'] = typed([0, 0]);
    }),
    'state.intercepts',
    /outputs .* = 3 values, found 2/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['weights'] = typed([1, 2, 3, 4, 5]);
    }),
    'state.weights',
    /multiple of outputs = 3 values, found 5/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['weights'] = null;
    }),
    'state.weights',
    /found null/,
  );
});

test('__proto__ as an own key of the state or the params is refused like any unknown field', async () => {
  const model = await new LinearRegression().fit(blobs());
  const text = serializeModel(model);
  assertRefused(
    text.replace('"state":{', '"state":{"__proto__":{"polluted":true},'),
    'state.__proto__',
    /not a field of this model's state; expected only weights, intercept/,
  );
  assertRefused(text.replace('"params":{', '"params":{"__proto__":{"polluted":true},'), 'params.__proto__', /no option '__proto__'/);
  assertRefused(text.replace('"params":{', '"params":{"constructor":1,'), 'params.constructor', /no option 'constructor'/);
  assertRefused(text.replace('"state":{', '"state":{"extra":1,'), 'state.extra');
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});

test("a wrong or unknown name tag fails: another model's fields, or no such model", async () => {
  const data = blobs();
  const kmeans = await new KMeans({ k: 2, seed: 1 }).fit(data);
  assertRefused(
    edited(kmeans, (d) => {
      d.model = 'pca';
      d.params = {};
    }),
    'state.centers',
    /not a field/,
  );
  assertRefused(
    edited(kmeans, (d) => {
      d.model = 'constructor';
    }),
    'model',
    /expected a model name, one of .*kmeans/,
  );
  assertRefused(
    edited(kmeans, (d) => {
      d.model = 7 as unknown as string;
    }),
    'model',
  );
  assertRefused(
    edited(kmeans, (d) => {
      d.version = 2;
    }),
    'version',
  );
  assertRefused(
    edited(kmeans, (d) => {
      d.state = [] as unknown as Record<string, unknown>;
    }),
    'state',
    /expected an object/,
  );
  assertRefused(
    edited(kmeans, (d) => {
      d.params = [1] as unknown as Record<string, unknown>;
    }),
    'params',
    /expected an object/,
  );
});

test('pca: truncated components or a mean of the wrong width fail naming the field', async () => {
  const model = await new PCA({ components: 1 }).fit(blobs());
  assertRefused(
    edited(model, (d) => {
      d.state['components'] = typed([1]);
    }),
    'state.components',
    /components·cols = 2 values, found 1/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['mean'] = typed([1, 2, 3]);
    }),
    'state.mean',
    /cols = 2 values, found 3/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['singularValues'] = typed([]);
    }),
    'state.singularValues',
  );
  assertRefused(
    edited(model, (d) => {
      d.state['samples'] = 0;
    }),
    'state.samples',
    /≥ 1/,
  );
});

test('mlp: truncated weights, a bad layer list and a layer that does not fit the input fail naming the field', async () => {
  const model = await new MLP({ hidden: [3], epochs: 1, batchSize: 8 }).fit(blobs());
  const state = model.state;
  assert.equal(state.params.length, 2 * 3 + 3 + 3 * 3 + 3);
  assertRefused(
    edited(model, (d) => {
      d.state['params'] = typed(Array.from(state.params).slice(1));
    }),
    'state.params',
    /parameter count = 21 values, found 20/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['layers'] = [];
    }),
    'state.layers',
  );
  assertRefused(
    edited(model, (d) => {
      (d.state['layers'] as { type: string }[])[0]!.type = 'constructor';
    }),
    'state.layers',
    /layer 0 has type 'constructor'/,
  );
  assertRefused(
    edited(model, (d) => {
      (d.state['layers'] as { units: unknown }[])[0]!.units = -1;
    }),
    'state.layers',
    /field 'units' must be an integer ≥ 1/,
  );
  assertRefused(
    edited(model, (d) => {
      (d.state['layers'] as { units: number }[])[2]!.units = 2;
    }),
    'state.layers',
    /dense with 3 units/,
  );
  assertRefused(
    edited(model, (d) => {
      (d.state['layers'] as unknown[]).unshift({ type: 'conv2d', filters: 1, kernelSize: 3, stride: 1, padding: 0 });
    }),
    'state.layers',
    /do not fit inputShape/,
  );
  assertRefused(
    edited(model, (d) => {
      d.state['inputShape'] = [0];
    }),
    'state.inputShape',
    /integers ≥ 1/,
  );
  assertRefused(
    serializeModel(model).replace('{"type":"dense","units":3}', '{"type":"dense","units":3,"__proto__":{"units":1}}'),
    'state.layers',
    /unknown field '__proto__'/,
  );
  // A layer claiming 10⁹ units fails on the parameter count without allocating its weights.
  assertRefused(
    edited(model, (d) => {
      (d.state['layers'] as { units: number }[])[0]!.units = 1e9;
    }),
    'state.params',
    /found 21/,
  );
});

test('the saved scaler is checked too: unknown name, non-numbers, unequal lengths, extra keys', async () => {
  const model = await new LinearRegression().fit(blobs());
  const scaler = { name: 'StandardScaler', offset: [0, 1], scale: [1, 2] };
  const withScaler = (preprocess: unknown): string => JSON.stringify({ ...(JSON.parse(serializeModel(model)) as object), preprocess });
  assert.deepEqual(deserializeDocument(withScaler(scaler), FILE).preprocess, scaler);
  assertRefused(withScaler({ ...scaler, name: 'constructor' }), 'preprocess.name');
  assertRefused(withScaler({ ...scaler, offset: [0, 'a'] }), 'preprocess.offset', /finite numbers/);
  assertRefused(withScaler({ ...scaler, scale: [1] }), 'preprocess.scale', /as many values as preprocess.offset \(2\), found 1/);
  assertRefused(withScaler([scaler]), 'preprocess');
  assertRefused(serializeModel(model, scaler).replace('"preprocess":{', '"preprocess":{"__proto__":{},'), 'preprocess.__proto__');
});
