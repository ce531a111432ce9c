import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Dataset } from '../../src/data/dataset.js';
import { MinMaxScaler, StandardScaler, columnStatistics, oneHot } from '../../src/data/preprocess.js';
import { trainTestSplit } from '../../src/data/split.js';
import { syntheticGenerator } from '../../src/data/synthetic.js';
import { DataError, NotFittedError, ShardlearnError } from '../../src/core/errors.js';
import { hashUniform } from '../../src/core/rng.js';

const train = new Dataset({ x: Float64Array.of(1, 10, 3, 10, 5, 10), rows: 3, cols: 2, y: Float64Array.of(0, 1, 2) });
const testSet = new Dataset({ x: Float64Array.of(7, 10, -1, 4), rows: 2, cols: 2 });

test('StandardScaler: fitted on train only, applied unchanged to test; constant columns kept', () => {
  const scaler = new StandardScaler().fit(train);
  // column 0: mean 3, population std sqrt(8/3); column 1 constant: mean 10, scale 1
  assert.deepEqual(Array.from(scaler.mean!), [3, 10]);
  assert.ok(Math.abs(scaler.std![0]! - Math.sqrt(8 / 3)) < 1e-15);
  const scaledTest = scaler.transform(testSet);
  assert.ok(Math.abs(scaledTest.x[0]! - 4 / Math.sqrt(8 / 3)) < 1e-12);
  assert.equal(scaledTest.x[3], -6);
  // the test data did not move the scaler
  assert.deepEqual(Array.from(scaler.mean!), [3, 10]);
  const restored = StandardScaler.fromJSON(JSON.parse(JSON.stringify(scaler.toJSON())));
  assert.deepEqual(restored.transform(testSet).x, scaledTest.x);
  assert.throws(
    () => MinMaxScaler.fromJSON(scaler.toJSON()),
    (e: unknown) => e instanceof ShardlearnError && e.code === 'MODEL_FORMAT',
  );
  assert.throws(() => new StandardScaler().transform(train), NotFittedError);
});

test('MinMaxScaler maps train to [0, 1] and test by the train range', () => {
  const scaler = new MinMaxScaler().fit(train);
  assert.deepEqual(Array.from(scaler.transform(train).x), [0, 0, 0.5, 0, 1, 0]);
  assert.deepEqual(Array.from(scaler.transform(testSet).x), [1.5, 0, -0.5, -6]);
  assert.deepEqual(Array.from(scaler.inverse(scaler.transform(testSet).x as Float64Array)), Array.from(testSet.x));
  assert.throws(() => scaler.transform(new Dataset({ x: new Float64Array(3), rows: 1, cols: 3 })), DataError);
});

test('summation form: statistics of shards, summed, give the scaler of the whole', () => {
  const data = syntheticGenerator({ kind: 'blobs', rows: 1000, cols: 3, seed: 1 }).generate();
  const parts = [data.slice(0, 400), data.slice(400, 1000)].map(columnStatistics);
  const merged = {
    count: parts[0]!.count + parts[1]!.count,
    sum: parts[0]!.sum.map((v, j) => v + parts[1]!.sum[j]!),
    sumOfSquares: parts[0]!.sumOfSquares.map((v, j) => v + parts[1]!.sumOfSquares[j]!),
    min: parts[0]!.min.map((v, j) => Math.min(v, parts[1]!.min[j]!)),
    max: parts[0]!.max.map((v, j) => Math.max(v, parts[1]!.max[j]!)),
  };
  const whole = new StandardScaler().fit(data);
  const summed = new StandardScaler().fitStatistics(merged);
  for (let j = 0; j < 3; j++) {
    assert.ok(Math.abs(whole.mean![j]! - summed.mean![j]!) < 1e-12);
    assert.ok(Math.abs(whole.std![j]! / summed.std![j]! - 1) < 1e-9);
  }
  assert.deepEqual(new MinMaxScaler().fitStatistics(merged).toJSON(), new MinMaxScaler().fit(data).toJSON());
});

test('oneHot codes labels as rows of 0/1 and refuses non-class values', () => {
  assert.deepEqual(Array.from(oneHot(Float64Array.of(2, 0, 1))), [0, 0, 1, 1, 0, 0, 0, 1, 0]);
  assert.deepEqual(Array.from(oneHot([1], 3)), [0, 1, 0]);
  assert.throws(
    () => oneHot([0.5], 2),
    (e: unknown) => e instanceof DataError && /row 1/.test(e.message),
  );
});

test('train/test split: per-row hash, seeded; a sharded worker splits locally and agrees with the whole', () => {
  const generator = syntheticGenerator({ kind: 'regression', rows: 5000, cols: 2, seed: 3 });
  const whole = generator.generate();
  const { train: wholeTrain, test: wholeTest } = trainTestSplit(whole, { seed: 8 });
  assert.equal(wholeTrain.rows + wholeTest.rows, 5000);
  assert.ok(Math.abs(wholeTest.rows / 5000 - 0.2) < 0.03, `test share ${wholeTest.rows / 5000}`);
  for (let i = 0; i < wholeTest.rows; i++) assert.ok(hashUniform(8, wholeTest.rowKey(i)) < 0.2);
  const shardTests = [generator.generate(0, 2000), generator.generate(2000, 5000)].map((shard) => trainTestSplit(shard, { seed: 8 }).test);
  assert.deepEqual(
    shardTests.flatMap((t) => Array.from(t.x)),
    Array.from(wholeTest.x),
  );
  assert.notDeepEqual(trainTestSplit(whole, { seed: 9 }).test.x, wholeTest.x);
  assert.equal(trainTestSplit(whole, { testFraction: 0 }).test.rows, 0);
});
