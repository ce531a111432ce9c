// The parameter server's pushes through a codec (strategies/parameter-server.ts): logistic
// regression (SGD, float64) on 50-feature, 3-class data, 2 workers. With ps-sync, threads and
// processes give the same parameters bit for bit; accuracy stays within 2 points of uncompressed
// pushes while the bytes the transport counted fall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { LogisticRegression } from '../../src/models/linear/logistic-regression.js';
import type { Paradigm } from '../../src/models/paradigm.js';

const all = syntheticGenerator({ kind: 'classification', rows: 3000, cols: 50, classes: 3, seed: 3, separation: 1.5 }).generate();
const train = all.slice(0, 2400);
const held = all.slice(2400, 3000);

async function fit(
  strategy: string,
  paradigm: Paradigm,
  compression?: string,
): Promise<{ accuracy: number; bytesSent: number; weights: Float64Array }> {
  const model = await new LogisticRegression({ solver: 'sgd', epochs: 5, batchSize: 64, lr: 0.1 }).fit(train, {
    paradigm,
    workers: 2,
    strategy,
    ...(compression === undefined ? {} : { compression }),
  });
  return { accuracy: model.score(held), bytesSent: model.fitInfo!.comm[0]!.bytesSent, weights: Float64Array.from(model.state.weights) };
}

test('ps-sync with compressed pushes: same model under threads×2 and processes×2, within 2 points of exact pushes, fewer bytes', async () => {
  const plain = await fit('ps-sync', 'threads');
  for (const [spec, fewer] of [
    ['topk:0.1', 1.5],
    ['qsgd:16', 1.2],
  ] as const) {
    const threads = await fit('ps-sync', 'threads', spec);
    const processes = await fit('ps-sync', 'processes', spec);
    assert.deepEqual(processes.weights, threads.weights, `${spec}: processes×2 vs threads×2`);
    assert.ok(threads.accuracy >= plain.accuracy - 0.02, `${spec}: accuracy ${threads.accuracy} vs exact pushes ${plain.accuracy}`);
    // Pulls stay exact (76 float64 a step), so the total falls by less than the pushes do.
    assert.ok(
      plain.bytesSent / threads.bytesSent > fewer,
      `${spec}: bytes ${threads.bytesSent} vs ${plain.bytesSent} (expected ${fewer}× fewer)`,
    );
    console.log(
      `ps-sync ${spec}: accuracy ${threads.accuracy} (exact ${plain.accuracy}); bytes rank 0 ${threads.bytesSent} vs ${plain.bytesSent}: ${(plain.bytesSent / threads.bytesSent).toFixed(2)}× fewer`,
    );
  }
});

test('ps-async with top-k pushes trains (workers at their own pace, error feedback per server)', async () => {
  const plain = await fit('ps-async', 'threads');
  const compressed = await fit('ps-async', 'threads', 'topk:0.1');
  assert.ok(compressed.accuracy >= plain.accuracy - 0.03, `accuracy ${compressed.accuracy} vs ${plain.accuracy}`);
  assert.ok(compressed.bytesSent < plain.bytesSent, `bytes ${compressed.bytesSent} vs ${plain.bytesSent}`);
});
