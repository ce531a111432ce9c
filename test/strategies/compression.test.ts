// The all-reduce strategy with --compression (strategies/compression.ts), end to end through real
// threads and real processes: logistic regression (SGD) and an MLP on 50-feature, 3-class data.
// - top-k 1% and fp16 train to within a stated accuracy of uncompressed;
// - the bytes the transport counted (comm.stats.bytesSent, rank 0) are what the codec's encoding
//   predicts: the encodings, the fixed collectives every run shares (row counts, classes, loss
//   tallies), and a bounded envelope per message — so they fall by the encoding's factor wherever
//   the vector is large enough for the envelopes not to matter;
// - threads×2 and processes×2 give bit-identical parameters for a fixed seed (with compression every
//   rank sums the batch rows of its own shard, in both paradigms).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import type { Dataset } from '../../src/data/dataset.js';
import { LogisticRegression } from '../../src/models/linear/logistic-regression.js';
import { MLP } from '../../src/models/neural/mlp.js';
import type { Paradigm } from '../../src/models/paradigm.js';
import { createCodec } from '../../src/comm/codecs/index.js';
import { ConfigError } from '../../src/core/errors.js';

const all = syntheticGenerator({ kind: 'classification', rows: 3000, cols: 50, classes: 3, seed: 3, separation: 1.5 }).generate();
const train = all.slice(0, 2400);
const held = all.slice(2400, 3000);

interface Run {
  accuracy: number;
  bytesSent: number;
  params: Float64Array;
}

interface Subject {
  label: string;
  /** Parameters and the bytes one of them takes on the wire uncompressed. */
  dim: number;
  valueBytes: number;
  /** --compression-warmup of its compressed runs. */
  warmupEpochs: number;
  fit(data: Dataset, paradigm: Paradigm, compression?: string): Promise<Run>;
}

const logistic: Subject = {
  label: 'logistic regression (sgd, float64)',
  dim: 3 * 51,
  valueBytes: 8,
  warmupEpochs: 0,
  async fit(data, paradigm, compression) {
    const model = await new LogisticRegression({ solver: 'sgd', epochs: 5, batchSize: 64, lr: 0.1 }).fit(data, {
      paradigm,
      workers: 2,
      ...(compression === undefined ? {} : { compression }),
    });
    return { accuracy: model.score(held), bytesSent: model.fitInfo!.comm[0]!.bytesSent, params: Float64Array.from(model.state.weights) };
  },
};

const mlp: Subject = {
  label: 'MLP [64] (adam, float32)',
  dim: 50 * 64 + 64 + 64 * 3 + 3,
  valueBytes: 4,
  warmupEpochs: 1,
  async fit(data, paradigm, compression) {
    // One epoch of DGC warm-up: top-k at 1% from the first step costs Adam ~3 points here, warm-up ~0.
    const model = await new MLP({ hidden: [64], epochs: 5, batchSize: 64, seed: 1 }).fit(data, {
      paradigm,
      workers: 2,
      ...(compression === undefined ? {} : { compression, compressionWarmup: 1 }),
    });
    return { accuracy: model.score(held), bytesSent: model.fitInfo!.comm[0]!.bytesSent, params: Float64Array.from(model.state.params) };
  },
};

/** Gradient bytes rank 0 sends per step, uncompressed: under 2 ranks the direct all-reduce sends its peer half the vector, then its reduced half back: n values. */
const plainBytes = (subject: Subject): number => subject.dim * subject.valueBytes;

const EPOCHS = 5;
const STEPS_PER_EPOCH = Math.ceil(2400 / 64);

/**
 * Gradient bytes rank 0 sends in a compressed run: each step, its encoding to its one peer, carried
 * 31 bits per 32 (collectives/allgather.ts), at the density of that epoch's warm-up, or the plain
 * all-reduce for a dense codec in warm-up.
 */
function encodedRunBytes(subject: Subject, spec: string, warmupEpochs: number): number {
  const codec = createCodec(spec);
  const state = codec.createState(subject.dim, { warmupEpochs });
  let bytes = 0;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    state.epoch = epoch;
    // Dense codecs send uncompressed during warm-up; sparse ones follow DGC's density schedule.
    if (codec.layout !== 'sparse' && epoch < warmupEpochs) bytes += STEPS_PER_EPOCH * plainBytes(subject);
    else bytes += STEPS_PER_EPOCH * Math.ceil((codec.encodedBytes(subject.dim, state) * 8) / 31) * 4;
  }
  return bytes;
}

/** Most bytes of envelope (tag, header, dtypes) one point-to-point message adds on the shared-memory transport. */
const ENVELOPE_BYTES = 128;

for (const subject of [logistic, mlp]) {
  test(`${subject.label}: top-k 1% and fp16 under threads×2 and processes×2 — accuracy, bytes measured, identical across paradigms`, async () => {
    const plain = await subject.fit(train, 'threads');
    for (const [spec, tolerance] of [
      ['fp16', 0.01],
      ['topk:0.01', 0.02],
    ] as const) {
      const threads = await subject.fit(train, 'threads', spec);
      const processes = await subject.fit(train, 'processes', spec);
      assert.deepEqual(processes.params, threads.params, `${spec}: processes×2 and threads×2 give the same parameters bit for bit`);
      assert.equal(processes.accuracy, threads.accuracy);
      assert.ok(
        threads.accuracy >= plain.accuracy - tolerance,
        `${spec}: accuracy ${threads.accuracy} vs uncompressed ${plain.accuracy} (allowed ${tolerance} lower)`,
      );
      // What the transport counted is exactly: the run's fixed collectives (row counts, classes, loss
      // tallies — what the uncompressed run sent beyond its gradients), the encodings, and one
      // envelope per step. Shared memory counts collectives' payload only, so the fixed part is exact there.
      const fixed = plain.bytesSent - EPOCHS * STEPS_PER_EPOCH * plainBytes(subject);
      const payload = fixed + encodedRunBytes(subject, spec, subject.warmupEpochs);
      const envelopes = threads.bytesSent - payload;
      const steps = EPOCHS * STEPS_PER_EPOCH;
      console.log(
        `${subject.label} ${spec}: accuracy ${threads.accuracy} (none ${plain.accuracy}); bytes/step rank 0: threads ${(threads.bytesSent / steps).toFixed(0)}, processes ${(processes.bytesSent / steps).toFixed(0)}, none ${(plain.bytesSent / steps).toFixed(0)}: ${(plain.bytesSent / threads.bytesSent).toFixed(2)}× fewer; envelopes ${(envelopes / steps).toFixed(1)} bytes/step`,
      );
      assert.ok(
        envelopes >= 0 && envelopes <= steps * ENVELOPE_BYTES,
        `${spec}: measured ${threads.bytesSent} bytes = ${payload} of fixed collectives and encodings + ${envelopes} (expected 0..${ENVELOPE_BYTES} a step)`,
      );
      // ZeroMQ adds its envelopes to every collective message too: within 10% of the threads' count.
      assert.ok(
        Math.abs(processes.bytesSent - threads.bytesSent) < 0.1 * threads.bytesSent,
        `${spec}: processes sent ${processes.bytesSent}, threads ${threads.bytesSent}`,
      );
    }
  });
}

test('qsgd, random-k, signSGD, topk16 and PowerSGD (two all-reduces) give the same MLP under threads×2 and processes×2, bit for bit', async () => {
  for (const spec of ['qsgd:16', 'randomk:0.1', 'signsgd', 'topk16:0.05', 'powersgd:2']) {
    const threads = await mlp.fit(train, 'threads', spec);
    const processes = await mlp.fit(train, 'processes', spec);
    assert.deepEqual(processes.params, threads.params, `${spec}: processes×2 vs threads×2`);
    assert.ok(threads.accuracy > 0.7, `${spec}: accuracy ${threads.accuracy}`);
  }
});

test('sequential compresses too (a world of one): top-k changes the model, none does not', async () => {
  const fit = async (compression?: string): Promise<Float64Array> => {
    const model = await new LogisticRegression({ solver: 'sgd', epochs: 2, batchSize: 64, lr: 0.1 }).fit(
      train,
      compression === undefined ? {} : { compression },
    );
    return Float64Array.from(model.state.weights);
  };
  const plain = await fit();
  assert.deepEqual(await fit('none'), plain);
  const compressed = await fit('topk:0.05');
  assert.notDeepEqual(compressed, plain);
  assert.deepEqual(await fit('topk:0.05'), compressed, 'same seed, same model');
});

test('--compression with a strategy that does not compress, or an unknown codec, is a ConfigError before any worker starts', async () => {
  const model = new LogisticRegression({ solver: 'sgd', epochs: 1 });
  await assert.rejects(
    model.fit(train, { paradigm: 'threads', workers: 2, strategy: 'hogwild', compression: 'topk:0.01' }),
    (e: unknown) => e instanceof ConfigError && /needs a strategy that compresses/.test(e.message),
  );
  await assert.rejects(
    model.fit(train, { paradigm: 'processes', workers: 2, compression: 'zip' }),
    (e: unknown) => e instanceof ConfigError && /unknown compression 'zip'/.test(e.message),
  );
  await assert.rejects(model.fit(train, { compression: 'topk:0.01', compressionWarmup: -1 }), ConfigError);
});
