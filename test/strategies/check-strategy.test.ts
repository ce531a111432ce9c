// A bad strategy name is refused in the parent, as a ConfigError naming the field, before any worker
// starts (before checkStrategy, a bad name surfaced as a worker's WorkerError). Pipeline parallelism
// is the fit option `pipeline` now; its old strategy names are refused with the new spelling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { checkStrategy } from '../../src/strategies/index.js';

test('checkStrategy accepts the registered names', () => {
  for (const name of ['allreduce', 'hogwild', 'ps-sync', 'ps-async', 'ps-ssp:3']) {
    assert.doesNotThrow(() => checkStrategy(name), name);
  }
});

test('checkStrategy names the field at fault', () => {
  const refused = (name: string, field: string) =>
    assert.throws(
      () => checkStrategy(name),
      (error: unknown) => error instanceof ConfigError && error.field === field,
      name,
    );
  refused('ring-of-fire', 'strategy');
  refused('pipeline', 'strategy');
  refused('pipeline:8:1f1b', 'strategy');
  assert.throws(() => checkStrategy('pipeline:8:1f1b'), /not a strategy but its own fit option: FitOptions.pipeline .*--pipeline 8:1f1b/);
});

test('a threads fit with a malformed pipeline option or an old pipeline strategy name is a ConfigError, not a WorkerError', async () => {
  const { train } = await loadData('synthetic:classification?rows=200&cols=4&seed=1');
  const model = createModel('mlp', { hidden: [4], epochs: 1 });
  await assert.rejects(
    () => model.fit(train, { paradigm: 'threads', workers: 2, pipeline: { schedule: 'bogus' as 'gpipe' } }),
    (error: unknown) => error instanceof ConfigError && error.field === 'pipeline.schedule' && /got 'bogus'/.test(error.message),
  );
  await assert.rejects(
    () => model.fit(train, { paradigm: 'threads', workers: 2, strategy: 'pipeline:4' }),
    (error: unknown) => error instanceof ConfigError && error.field === 'strategy' && /--pipeline 4/.test(error.message),
  );
});
