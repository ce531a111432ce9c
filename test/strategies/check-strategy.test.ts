// A bad strategy name is refused in the parent, as a ConfigError naming the field, before any worker
// starts (before checkStrategy, a malformed pipeline option surfaced as a worker's WorkerError).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { checkStrategy } from '../../src/strategies/index.js';

test('checkStrategy accepts the registered names and pipeline options', () => {
  for (const name of ['allreduce', 'hogwild', 'ps-sync', 'ps-async', 'ps-ssp:3', 'pipeline', 'pipeline:8', 'pipeline:8:1f1b', 'pipeline:1f1b:replicas=2']) {
    assert.doesNotThrow(() => checkStrategy(name, 4), name);
  }
});

test('checkStrategy names the field at fault', () => {
  const refused = (name: string, workers: number, field: string) =>
    assert.throws(() => checkStrategy(name, workers), (error: unknown) => error instanceof ConfigError && error.field === field, `${name} on ${workers}`);
  refused('ring-of-fire', 2, 'strategy');
  refused('pipeline:8:bogus', 2, 'strategy');
  refused('pipeline:replicas=2', 3, 'workers');
});

test('a threads fit with a malformed pipeline option is a ConfigError, not a WorkerError', async () => {
  const { train } = await loadData('synthetic:classification?rows=200&cols=4&seed=1');
  const model = createModel('mlp', { hidden: [4], epochs: 1 });
  await assert.rejects(
    () => model.fit(train, { paradigm: 'threads', workers: 2, strategy: 'pipeline:4:bogus' }),
    (error: unknown) => error instanceof ConfigError && error.field === 'strategy' && /unknown part 'bogus'/.test(error.message),
  );
});
