// Compressed federated uploads (runtime/federated-upload.ts): real federated fits of a softmax
// regression whose clients send their updates through the gradient codecs; bytes are those of the
// messages actually serialised (wire frames) or received by the ZeroMQ transport (client processes).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { codecUsages, createCodec } from '../../src/comm/codecs/index.js';
import { WireError } from '../../src/comm/zmq/wire.js';
import { CommError, ConfigError } from '../../src/core/errors.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { decodeReply, encodeReply } from '../../src/runtime/federated-client.js';
import { UploadEncoder } from '../../src/runtime/federated-upload.js';
import { caseData } from './model-cases.js';

const COLS = 100;
const train = caseData('multiclass', 2000, COLS);
const held = caseData('multiclass', 400, COLS, 7);
/** Parameters of the model: a weight per feature and class, an intercept per class. */
const D = 3 * COLS + 3;
const params = { solver: 'sgd', epochs: 1, batchSize: 32, lr: 0.5 };

const weightsOf = (model: AnyEstimator): number[] => {
  const state = model.state as { weights: Float64Array; intercepts: Float64Array };
  return [...state.weights, ...state.intercepts];
};

async function fit(options: FederatedOptions, compression?: string): Promise<AnyEstimator> {
  return createModel('logistic-regression', params).fit(train, {
    paradigm: 'federated',
    ...(compression === undefined ? {} : { compression }),
    federated: { placement: 'inline', clients: 10, fraction: 0.5, rounds: 6, localEpochs: 2, seed: 5, ...options },
  });
}

test('fp16 uploads: one client’s round is the dense round rounded to half precision; a federation lands within 1 point sending a quarter of the float64 bytes', async () => {
  // One client, one round, from zero weights (the SGD solver's start): the global model is the
  // client's delta, so with fp16 it must be exactly the dense model rounded to half precision.
  const single: FederatedOptions = { clients: 1, fraction: 1, rounds: 1 };
  const dense = weightsOf(await fit(single));
  const half = weightsOf(await fit(single, 'fp16'));
  const codec = createCodec('fp16');
  const rounded = Array.from(codec.decode(codec.encode(Float64Array.from(dense), codec.createState(dense.length)), dense.length));
  assert.deepEqual(half, rounded);
  const bound = codec.errorBound(Float64Array.from(dense));
  assert.ok(bound > 0 && half.every((w, j) => Math.abs(w - dense[j]!) <= bound));
  assert.ok(
    half.some((w, j) => w !== dense[j]),
    'fp16 changed nothing: the upload was not compressed',
  );

  const none = await fit({});
  const fp16 = await fit({}, 'fp16');
  const [a, b] = [none.score(held), fp16.score(held)];
  assert.ok(a > 0.9 && Math.abs(a - b) <= 0.01, `accuracy none ${a}, fp16 ${b}`);
  const [infoNone, infoHalf] = [none.fitInfo!.federated!, fp16.fitInfo!.federated!];
  // fp16 is a biased codec (round to nearest): each client keeps its rounding residual by default.
  assert.deepEqual(infoHalf.compression, { codec: 'fp16', errorFeedback: true });
  assert.equal(infoNone.compression, undefined);
  // Downloads stay dense: the same bytes either way.
  assert.equal(infoHalf.bytesDown, infoNone.bytesDown);
  // Each of the 6 × 5 uploads saves 6 bytes a parameter (float64 → half), envelopes aside (±40 bytes).
  const uploads = 6 * 5;
  const saved = (infoNone.bytesUp - infoHalf.bytesUp) / uploads;
  assert.ok(Math.abs(saved - 6 * D) <= 40, `saved ${saved} bytes an upload, expected ≈ ${6 * D}`);
  const ratio = infoHalf.bytesUp / infoNone.bytesUp;
  assert.ok(ratio > 0.25 && ratio < 0.33, `fp16/none upload bytes ${ratio}`);
  console.log(
    `fp16: accuracy ${b.toFixed(3)} vs ${a.toFixed(3)}; upload bytes ${infoHalf.bytesUp} vs ${infoNone.bytesUp} (${ratio.toFixed(3)})`,
  );
});

test('top-k uploads with per-client error feedback reach the dense accuracy at a fraction of the bytes', async () => {
  const options: FederatedOptions = { rounds: 15 };
  const dense = await fit(options);
  const sparse = await fit(options, 'topk:0.1');
  const [a, b] = [dense.score(held), sparse.score(held)];
  const info = sparse.fitInfo!.federated!;
  assert.deepEqual(info.compression, { codec: 'topk:0.1', errorFeedback: true });
  assert.ok(b >= 0.9 && b >= a - 0.03, `top-k 10% with error feedback: ${b} vs dense ${a}`);
  const ratio = info.bytesUp / dense.fitInfo!.federated!.bytesUp;
  // 30 of 303 values as (uint32, float32) pairs against 303 float64 values, plus the envelopes.
  assert.ok(ratio < 0.25, `top-k/none upload bytes ${ratio}`);
  const off = await fit({ ...options, clientErrorFeedback: false }, 'topk:0.1');
  assert.deepEqual(off.fitInfo!.federated!.compression, { codec: 'topk:0.1', errorFeedback: false });
  // Error feedback changes what is sent, not how much (the headers' loss values aside).
  assert.ok(Math.abs(off.fitInfo!.federated!.bytesUp / info.bytesUp - 1) < 0.01);
  console.log(
    `topk:0.1 + EF: accuracy ${b.toFixed(3)} (dense ${a.toFixed(3)}, no EF ${off.score(held).toFixed(3)}); upload bytes ×${ratio.toFixed(3)}`,
  );
});

test('every registered codec compresses the uploads: fewer bytes up, the same bytes down, a finite model that learns', async () => {
  const options: FederatedOptions = { rounds: 3 };
  const dense = (await fit(options)).fitInfo!.federated!;
  const specs = codecUsages()
    .filter((usage) => usage !== 'none')
    .map((usage) => usage.replace('<ratio>', '0.1').replace('<levels>', '4').replace('<rank>', '2'));
  assert.ok(specs.length >= 9, specs.join(', '));
  for (const spec of specs) {
    const model = await fit(options, spec);
    const info = model.fitInfo!.federated!;
    assert.equal(info.compression?.codec, spec);
    assert.ok(info.bytesUp < dense.bytesUp / 2, `${spec}: ${info.bytesUp} bytes up, dense ${dense.bytesUp}`);
    assert.equal(info.bytesDown, dense.bytesDown, `${spec}: downloads stay dense`);
    assert.ok(weightsOf(model).every(Number.isFinite), spec);
    assert.ok(model.score(held) > 0.6, `${spec}: accuracy ${model.score(held)}`);
  }
});

test('a client’s error-feedback memory exists only once it is sampled, in float32, and what it drops is sent in its later rounds', () => {
  const encoder = new UploadEncoder({ codec: 'topk:0.25', warmupRounds: 0, errorFeedback: true });
  const delta = Float64Array.from([4, 3, 2, 1]);
  const codec = createCodec('topk:0.25');
  const sent = new Float64Array(4);
  for (let round = 1; round <= 12; round++) {
    const decoded = codec.decode(encoder.encode({ round, client: 7, seed: round }, delta), 4);
    decoded.forEach((value, i) => (sent[i]! += value));
  }
  // One value a round is sent, the rest is owed: the smallest is sent once enough has accumulated
  // (without error feedback the last coordinate would never be sent).
  assert.deepEqual(encoder.held(), { clients: 1, bytes: 4 * 4 });
  assert.ok(
    sent.every((value) => value > 0),
    `every coordinate is eventually sent: ${Array.from(sent).join(', ')}`,
  );
  encoder.encode({ round: 1, client: 99, seed: 1 }, delta);
  assert.equal(encoder.held().clients, 2);
  // Unbiased codecs and error feedback off keep nothing.
  const qsgd = new UploadEncoder({ codec: 'qsgd:4', warmupRounds: 0, errorFeedback: true });
  qsgd.encode({ round: 1, client: 1, seed: 1 }, delta);
  const off = new UploadEncoder({ codec: 'topk:0.25', warmupRounds: 0, errorFeedback: false });
  off.encode({ round: 1, client: 1, seed: 1 }, delta);
  assert.deepEqual([qsgd.held().clients, off.held().clients], [0, 0]);
  // --compression-warmup counts rounds: DGC's density falls over the first 2 rounds, then stays at 1%.
  const warm = new UploadEncoder({ codec: 'topk:0.01', warmupRounds: 2, errorFeedback: true });
  const big = Float64Array.from({ length: 10_000 }, (_, i) => Math.sin(i));
  const sizes = [1, 2, 3].map((round) => warm.encode({ round, client: 0, seed: round }, big).byteLength);
  assert.deepEqual(sizes, [8 * Math.round(10_000 * 0.01 ** (1 / 3)), 8 * Math.round(10_000 * 0.01 ** (2 / 3)), 8 * 100]);
});

test('inline, thread and process client hosts give the same model and upload bytes for a seed and codec', async () => {
  for (const codec of ['topk16:0.2', 'qsgd:4', 'powersgd:2']) {
    const options: FederatedOptions = { rounds: 3 };
    const inline = await fit(options, codec);
    const threads = await fit({ ...options, placement: 'threads', workers: 2 }, codec);
    assert.deepEqual(weightsOf(threads), weightsOf(inline), `${codec}: threads`);
    assert.equal(threads.fitInfo!.federated!.bytesUp, inline.fitInfo!.federated!.bytesUp, `${codec}: threads bytes`);
    if (codec !== 'topk16:0.2') continue;
    const processes = await fit({ ...options, placement: 'processes', workers: 2 }, codec);
    assert.deepEqual(weightsOf(processes), weightsOf(inline), `${codec}: processes`);
    // Measured by the ZeroMQ transport's own counters: the same frames as the inline host serialised.
    assert.equal(processes.fitInfo!.federated!.bytesUp, inline.fitInfo!.federated!.bytesUp, `${codec}: processes bytes`);
  }
});

test('compression with secure aggregation is refused naming both flags; a bad codec before any client runs', async () => {
  await assert.rejects(
    fit({ clients: 4, fraction: 1, rounds: 1, secureAggregation: true }, 'topk16:0.01'),
    (error: unknown) =>
      error instanceof ConfigError && /--compression topk16:0\.01 and --secure-aggregation cannot be combined/.test(error.message),
  );
  await assert.rejects(fit({ rounds: 1 }, 'topk:2'), (error: unknown) => error instanceof ConfigError && /topk:2/.test(error.message));
  // 'none' is the dense upload.
  const none = await fit({ rounds: 1 }, 'none');
  assert.equal(none.fitInfo!.federated!.compression, undefined);
});

test('the server refuses an upload cut short, of another codec, or dense where bytes were expected', () => {
  const fp16 = createCodec('fp16');
  const delta = Float64Array.from({ length: 10 }, (_, i) => i / 3);
  const bytes = fp16.encode(delta, fp16.createState(10));
  const reply = { round: 1, client: 4, weight: 10, loss: null, codec: 'fp16' };
  const frames = encodeReply(reply, bytes);
  assert.deepEqual(Array.from(decodeReply(frames, fp16, 10).delta), Array.from(fp16.decode(bytes, 10)));
  // Cut on the way: the wire refuses it before any codec reads it.
  assert.throws(() => decodeReply([frames[0]!, frames[1]!.subarray(0, 19)], fp16, 10), WireError);
  // Consistent frames of the wrong length for this model: the codec's own check, named by client.
  const short = encodeReply(reply, bytes.subarray(0, 18));
  assert.throws(
    () => decodeReply(short, fp16, 10),
    (error: unknown) => error instanceof CommError && /client 4's update: codec 'fp16': 18 encoded bytes/.test(error.message),
  );
  assert.throws(
    () => decodeReply(encodeReply({ ...reply, codec: 'bf16' }, bytes), fp16, 10),
    (error: unknown) => error instanceof CommError && /expected one 'fp16' byte frame.*codec 'bf16'/.test(error.message),
  );
  assert.throws(
    () => decodeReply(encodeReply(reply, delta), fp16, 10),
    (error: unknown) => error instanceof CommError && /found 1 arrays and 0 byte frames/.test(error.message),
  );
  assert.throws(() => decodeReply(frames, null, 10), /dense upload/);
});
