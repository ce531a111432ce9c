// CNN: the estimator suite on tiny images, a task it must solve (bar orientation), the default
// architecture's shapes, and option/shape errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { CNN } from '../../src/models/neural/cnn.js';
import { Network } from '../../src/nn/network.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import { barImages } from '../nn/data.js';
import '../../src/index.js';

const TINY = { filters: [4], kernelSize: 3, dense: [8], epochs: 1, batchSize: 16 };

estimatorSuite({ name: 'cnn', params: { ...TINY, dropout: 0.25 }, data: () => barImages(48, 1) });

test('cnn tells horizontal, vertical and diagonal bars apart (≥ 95% held out)', async () => {
  const model = await new CNN({ filters: [6], kernelSize: 3, padding: 1, dense: [16], epochs: 6, batchSize: 16, lr: 0.01 }).fit(
    barImages(300, 2),
  );
  const accuracy = model.score(barImages(150, 3));
  assert.ok(accuracy >= 0.95, `accuracy ${accuracy}`);
});

test('the default architecture on 28×28×1: 28 → 24 → 12 → 8 → 4, 1,024 → 128 → 10; 225,034 parameters', () => {
  const { inputShape, layers } = new CNN().architecture(784, 10);
  assert.deepEqual(inputShape, [28, 28, 1]);
  const network = new Network(layers, inputShape, 'float32');
  assert.deepEqual(network.outputShape, [10]);
  // conv1 5·5·1·32 + 32, conv2 5·5·32·64 + 64, dense 1024·128 + 128, output 128·10 + 10
  assert.equal(network.size, 832 + 51264 + 131200 + 1290);
});

test('cnn with an explicit input shape (stride 2, padding, 3 channels)', async () => {
  const rows = 20;
  const data = barImages(rows, 4, 6);
  const rgb = { ...data, cols: 36 * 3, x: Float64Array.from({ length: rows * 108 }, (_, i) => data.x[Math.floor(i / 3)]!) };
  const model = new CNN({
    inputShape: '6x6x3' as unknown as number[],
    filters: [3],
    kernelSize: 3,
    stride: 2,
    padding: 1,
    pool: 1,
    dense: [],
    epochs: 1,
  });
  assert.deepEqual(model.params.inputShape, [6, 6, 3]);
  assert.deepEqual(model.architecture(108, 3).layers[0], { type: 'conv2d', filters: 3, kernelSize: 3, stride: 2, padding: 1 });
  const { Dataset } = await import('../../src/data/dataset.js');
  const fitted = await model.fit(new Dataset({ x: rgb.x, rows, cols: 108, y: data.y }));
  assert.equal(fitted.predict(new Dataset({ x: rgb.x, rows, cols: 108, y: data.y })).length, rows);
});

test('cnn errors: a non-square column count without inputShape, a shape that does not match, a bad kernel', () => {
  assert.throws(
    () => new CNN().architecture(10, 2),
    (e: unknown) => e instanceof DataError && /input-shape/.test(e.message),
  );
  assert.throws(
    () => new CNN({ inputShape: [4, 4, 2] }).architecture(16, 2),
    (e: unknown) => e instanceof DataError && /needs 32 feature columns/.test(e.message),
  );
  assert.throws(
    () => new CNN({ inputShape: [4, 4] }),
    (e: unknown) => e instanceof ConfigError && e.field === 'inputShape',
  );
  assert.throws(
    () => new CNN({ kernelSize: 0 }),
    (e: unknown) => e instanceof ConfigError && e.field === 'kernelSize',
  );
});
