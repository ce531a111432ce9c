/**
 * The estimator conformance suite (scikit-learn's estimator_checks): every model passes it.
 * fit returns the estimator; predict before fit throws NotFittedError; save/load round-trips to the
 * same predictions; the same seed gives the same model; an unknown option is refused; the model is
 * registered under its name with an option schema and a state schema, and a saved file with any state
 * field missing, mistyped, non-finite or cut short fails to load naming that field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NotFittedError } from '../../src/core/errors.js';
import type { Dataset } from '../../src/data/dataset.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { createModel, modelEntry, modelNames } from '../../src/models/registry.js';
import { deserializeDocument, loadModel, saveModel, serializeModel } from '../../src/models/persist.js';
import { ModelFormatError } from '../../src/models/state-schema.js';
import '../../src/index.js';

export interface EstimatorSuiteOptions {
  /** The registry name. */
  name: string;
  /** Hyperparameters small enough for a fast fit. */
  params: Record<string, unknown>;
  /** Training data (small). */
  data: () => Promise<Dataset> | Dataset;
}

export function estimatorSuite(options: EstimatorSuiteOptions): void {
  const make = (extra: Record<string, unknown> = {}): AnyEstimator => createModel(options.name, { ...options.params, ...extra });

  test(`${options.name}: is registered under its name`, () => {
    assert.ok(modelNames().includes(options.name));
    assert.equal(make().name, options.name);
  });

  test(`${options.name}: predict before fit throws NotFittedError`, async () => {
    const data = await options.data();
    assert.throws(() => make().predict(data), NotFittedError);
  });

  test(`${options.name}: fit returns the estimator itself`, async () => {
    const data = await options.data();
    const model = make();
    assert.equal(await model.fit(data), model);
    assert.equal(model.predict(data).length, data.rows);
  });

  test(`${options.name}: the same seed gives the same model`, async () => {
    const data = await options.data();
    const a = await make().fit(data);
    const b = await make().fit(data);
    assert.equal(serializeModel(a), serializeModel(b));
  });

  test(`${options.name}: save and load round-trip to identical predictions`, async () => {
    const data = await options.data();
    const model = await make().fit(data);
    const dir = mkdtempSync(join(tmpdir(), 'shardlearn-suite-'));
    try {
      const path = join(dir, 'model.json');
      await saveModel(model, path);
      const loaded = await loadModel(path, options.name);
      assert.deepEqual(loaded.predict(data), model.predict(data));
      assert.equal(loaded.score(data), model.score(data));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(`${options.name}: an unknown option is refused`, () => {
    assert.throws(() => make({ notAnOption: 1 }), ConfigError);
  });

  test(`${options.name}: declares an option schema and a state schema`, () => {
    const entry = modelEntry(options.name);
    assert.ok(entry.options !== undefined, 'registerModel({ options }) is missing');
    assert.ok(entry.state !== undefined, 'registerModel({ state }) is missing');
    assert.deepEqual(Object.keys(entry.options), Object.keys(make().params));
  });

  test(`${options.name}: a saved file with a state field missing, mistyped, non-finite or cut short fails naming the field`, async () => {
    const model = await make().fit(await options.data());
    const text = serializeModel(model);
    const schema = modelEntry(options.name).state ?? {};
    const refuses = (edit: (state: Record<string, unknown>) => void, field: string, what: string): void => {
      const document = JSON.parse(text) as { state: Record<string, unknown> };
      edit(document.state);
      assert.throws(
        () => deserializeDocument(JSON.stringify(document), 'suite.json'),
        (error: unknown) => {
          assert.ok(error instanceof ModelFormatError, `${what}: ${String(error)}`);
          assert.equal(error.field, `state.${field}`, `${what}: ${error.message}`);
          assert.match(error.message, /^suite\.json: /);
          return true;
        },
        what,
      );
    };
    assert.ok(Object.keys(schema).length > 0);
    for (const [field, spec] of Object.entries(schema)) {
      refuses(
        (state) => {
          delete state[field];
        },
        field,
        `${field} deleted`,
      );
      refuses(
        (state) => {
          state[field] = 'not this';
        },
        field,
        `${field} a string`,
      );
      if (spec.type !== 'floats') continue;
      const values = Array.from(model.state[field as keyof object] as Float64Array);
      const encode = (list: number[]): unknown => ({
        $typed: 'Float64Array',
        base64: Buffer.from(Float64Array.from(list).buffer).toString('base64'),
      });
      if (spec.finite !== false && values.length > 0)
        refuses(
          (state) => {
            state[field] = encode([NaN, ...values.slice(1)]);
          },
          field,
          `${field} with NaN`,
        );
      if (spec.length !== undefined && values.length > 0)
        refuses(
          (state) => {
            state[field] = encode(values.slice(1));
          },
          field,
          `${field} cut short`,
        );
    }
  });
}
