/**
 * The estimator conformance suite (scikit-learn's estimator_checks): every model passes it.
 * fit returns the estimator; predict before fit throws NotFittedError; save/load round-trips to the
 * same predictions; the same seed gives the same model; an unknown option is refused; the model is
 * registered under its name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, NotFittedError } from '../../src/core/errors.js';
import type { Dataset } from '../../src/data/dataset.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { createModel, modelNames } from '../../src/models/registry.js';
import { loadModel, saveModel, serializeModel } from '../../src/models/persist.js';
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
}
