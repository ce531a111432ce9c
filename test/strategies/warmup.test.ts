// Compression warm-up in fractions of an epoch (FitOptions.compressionWarmup = 0.5): the all-reduce
// strategy counts steps, so top-k sends its warm-up density for the first half of epoch 0 only and a
// dense codec sends uncompressed for that half — the bytes fall strictly between no warm-up and a
// whole epoch of it, at the share the step count predicts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { MLP } from '../../src/models/neural/mlp.js';
import { ConfigError } from '../../src/core/errors.js';

const data = syntheticGenerator({ kind: 'classification', rows: 1280, cols: 40, classes: 3, seed: 6, separation: 1.5 }).generate();

async function bytesSent(compression: string, compressionWarmup: number): Promise<number> {
  const model = await new MLP({ hidden: [64], epochs: 2, batchSize: 64, seed: 3 }).fit(data, {
    paradigm: 'threads',
    workers: 2,
    compression,
    compressionWarmup,
  });
  return model.fitInfo!.comm[0]!.bytesSent;
}

test('a warm-up of half an epoch costs about half the extra bytes of a whole one, for top-k and for PowerSGD', async () => {
  for (const codec of ['topk16:0.01', 'powersgd:1']) {
    const none = await bytesSent(codec, 0);
    const half = await bytesSent(codec, 0.5);
    const whole = await bytesSent(codec, 1);
    const share = (half - none) / (whole - none);
    // 20 steps an epoch: the first 10 warm up. Envelopes and fixed collectives are the same in all three.
    assert.ok(
      Math.abs(share - 0.5) < 0.02,
      `${codec}: half an epoch of warm-up cost ${share.toFixed(3)} of a whole epoch's extra bytes (${none}, ${half}, ${whole})`,
    );
  }
  await assert.rejects(bytesSent('topk16:0.01', -0.5), ConfigError);
});
