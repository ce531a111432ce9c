// DQN: the TD target (Double DQN and plain) and the target-network updates against hand
// computations, a short CartPole run that must learn, the estimator contract, and the Ape-X actors:
// 2 threads and 2 processes (synchronous rounds) train the same network bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';
import { DQN } from '../../src/models/rl/dqn.js';
import type { TransitionBatch } from '../../src/models/rl/q-network.js';
import { QNetwork } from '../../src/models/rl/q-network.js';
import { huber } from '../../src/nn/losses.js';
import type { TrainContext } from '../../src/models/context.js';
import { Learner } from '../../src/models/rl/dqn-learner.js';
import { ReplayBuffer, packTransition, packedWidth } from '../../src/rl/replay.js';
import { estimatorSuite } from '../support/estimator-suite.js';
import '../../src/index.js';

const observations = (): Dataset => new Dataset({ x: Float64Array.from({ length: 20 }, (_, i) => Math.sin(i) * 0.05), rows: 5, cols: 4 });

estimatorSuite({
  name: 'dqn',
  params: { env: 'cartpole', steps: 400, learningStarts: 100, hidden: [8], batchSize: 16, evalEpisodes: 3 },
  data: observations,
});

function randomBatch(size: number, seed: number): TransitionBatch {
  const rng = new Rng(seed);
  return {
    size,
    observations: Float64Array.from({ length: size * 3 }, () => rng.normal()),
    actions: Int32Array.from({ length: size }, () => rng.int(2)),
    rewards: Float64Array.from({ length: size }, () => rng.normal()),
    nextObservations: Float64Array.from({ length: size * 3 }, () => rng.normal()),
    terminated: Uint8Array.from({ length: size }, (_, i) => (i % 3 === 0 ? 1 : 0)),
  };
}

function otherWeights(): Float64Array {
  return new QNetwork({ observationLength: 3, actions: 2, hidden: [5], dtype: 'float64', seed: 99 }).params;
}

/** The loss a gradient step reports, recomputed by hand from the networks' Q-values before it. */
function expectedLoss(q: QNetwork, batch: TransitionBatch, gamma: number, double: boolean, delta = 1): number {
  let loss = 0;
  for (let i = 0; i < batch.size; i++) {
    const s = batch.observations.subarray(i * 3, i * 3 + 3);
    const next = batch.nextObservations.subarray(i * 3, i * 3 + 3);
    const online = Array.from(q.values(next));
    const target = Array.from(q.target.forward({ shape: [1, 3], data: Float64Array.from(next) }, { training: false, rowSeeds: null }).data);
    const chooser = double ? online : target;
    const best = chooser[0]! >= chooser[1]! ? 0 : 1;
    const y = batch.rewards[i]! + (batch.terminated[i] === 1 ? 0 : gamma * target[best]!);
    loss += huber(q.values(s)[batch.actions[i]!]! - y, delta);
  }
  return loss / batch.size;
}

for (const double of [true, false]) {
  test(`q-network: the ${double ? 'Double DQN' : 'plain DQN'} TD target and Huber loss match a hand computation`, () => {
    const q = new QNetwork({ observationLength: 3, actions: 2, hidden: [5], dtype: 'float64', seed: 1 });
    // A target network of other random weights, so the two networks' argmax actions differ.
    q.target.loadParameters(otherWeights());
    const batch = randomBatch(12, 2);
    const expected = expectedLoss(q, batch, 0.9, double);
    const loss = q.train(batch, { gamma: 0.9, lr: 1e-3, double, loss: 'huber', maxGradNorm: Infinity });
    assert.ok(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
  });
}

test('q-network: Huber with δ = 0.3 matches a hand computation (and differs from δ = 1)', () => {
  const make = (): QNetwork => {
    const q = new QNetwork({ observationLength: 3, actions: 2, hidden: [5], dtype: 'float64', seed: 1 });
    q.target.loadParameters(otherWeights());
    return q;
  };
  const batch = randomBatch(12, 2);
  const expected = expectedLoss(make(), batch, 0.9, true, 0.3);
  const options = { gamma: 0.9, lr: 1e-3, double: true, loss: 'huber' as const, maxGradNorm: Infinity };
  const loss = make().train(batch, { ...options, huberDelta: 0.3 });
  assert.ok(Math.abs(loss - expected) < 1e-12, `${loss} vs ${expected}`);
  assert.ok(Math.abs(make().train(batch, options) - loss) > 1e-3);
});

test('q-network: Double and plain DQN targets differ when the networks disagree', () => {
  const make = (): QNetwork => {
    const q = new QNetwork({ observationLength: 3, actions: 2, hidden: [5], dtype: 'float64', seed: 1 });
    q.target.loadParameters(otherWeights());
    return q;
  };
  const batch = randomBatch(12, 2);
  const options = { gamma: 0.9, lr: 1e-3, loss: 'huber' as const, maxGradNorm: Infinity };
  assert.notEqual(make().train(batch, { ...options, double: true }), make().train(batch, { ...options, double: false }));
});

test('q-network: regressing on terminal transitions drives the loss to 0 (the gradient descends)', () => {
  const q = new QNetwork({ observationLength: 3, actions: 2, hidden: [16], dtype: 'float64', seed: 3 });
  const batch = randomBatch(16, 4);
  batch.terminated.fill(1);
  const first = q.train(batch, { gamma: 0.99, lr: 1e-2, double: true, loss: 'mse', maxGradNorm: 10 });
  let last = first;
  for (let i = 0; i < 500; i++) last = q.train(batch, { gamma: 0.99, lr: 1e-2, double: true, loss: 'mse', maxGradNorm: 10 });
  assert.ok(last < first * 1e-3, `${first} → ${last}`);
});

test('q-network: hard and Polyak target updates', () => {
  const q = new QNetwork({ observationLength: 3, actions: 2, hidden: [4], dtype: 'float64', seed: 5 });
  const old = Float64Array.from(q.params, (v) => v + 1);
  q.target.loadParameters(old);
  q.updateTarget(0.25);
  q.target.store.values.forEach((v, i) => assert.ok(Math.abs(v - (0.25 * q.params[i]! + 0.75 * old[i]!)) < 1e-15));
  q.updateTarget(1);
  assert.deepEqual(Float64Array.from(q.target.store.values), q.params);
});

test('dqn learns CartPole in a short seeded run (20,000 steps): evalReturn ≥ 100 from ≈ 10 at random', async () => {
  const agent = await new DQN({ env: 'cartpole', steps: 20_000, seed: 0 }).fit();
  const { meanReturn } = agent.evaluatePolicy({ episodes: 20 });
  assert.ok(meanReturn >= 100, `evalReturn ${meanReturn}`);
  assert.equal(agent.state.training.envSteps, 20_000);
  assert.ok(agent.state.training.episodes > 50);
});

test('dqn actors on 2 threads and on 2 processes: the same network bit for bit, transitions sent to the learner', async () => {
  const params = { env: 'cartpole', steps: 3000, learningStarts: 500, hidden: [16], seed: 2, syncEvery: 25 };
  const threads = await new DQN(params).fit({ paradigm: 'threads', workers: 2 });
  const processes = await new DQN(params).fit({ paradigm: 'processes', workers: 2 });
  assert.deepEqual(threads.state.params, processes.state.params);
  assert.deepEqual(threads.state.training, processes.state.training);
  assert.equal(threads.state.training.envSteps, 3000);
  // The actor (rank 1) sent one message of transitions per round: 1500 steps / 25.
  assert.equal(threads.fitInfo!.comm[1]!.messagesSent, 60);
  const sequential = await new DQN(params).fit();
  assert.notDeepEqual(sequential.state.params, threads.state.params, 'two actors see other episodes than one');
});

test('dqn refuses a bad option naming it, and FrozenLake works as a 1-value observation', async () => {
  assert.throws(() => new DQN({ hidden: '64,x' }), /option 'hidden' must be a list of whole numbers ≥ 1/);
  assert.deepEqual(new DQN({ hidden: '32,16' }).params.hidden, [32, 16]);
  assert.deepEqual(new DQN({ hidden: 8 }).params.hidden, [8]);
  // No clipping is null (a saved file holds JSON), not Infinity, which the schema refuses as non-finite.
  assert.equal(new DQN({ maxGradNorm: null }).params.maxGradNorm, null);
  assert.throws(() => new DQN({ maxGradNorm: Infinity }), /option 'maxGradNorm' must be a finite number > 0 or null/);
  assert.throws(() => new DQN({ steps: '1e3x' as never }), /option 'steps' must be an integer ≥ 1, found '1e3x'/);
  assert.throws(() => new DQN({ targetUpdate: 'soft' as never }), /option 'targetUpdate' must be one of hard, polyak/);
  const lake = await new DQN({ env: 'frozenlake-4x4', steps: 300, learningStarts: 50, hidden: [8], evalEpisodes: 2 }).fit();
  assert.ok(Number.isFinite(lake.score()));
});

test('dqn asynchronous actors (Ape-X): rank 0 only learns, never beyond the sequential replay ratio; on threads and processes', async () => {
  const params = { env: 'cartpole', steps: 4000, learningStarts: 500, hidden: [16], seed: 2, syncEvery: 20, actors: 'async' as const };
  for (const paradigm of ['threads', 'processes'] as const) {
    const agent = await new DQN(params).fit({ paradigm, workers: 3 });
    const { training } = agent.state;
    assert.equal(training.envSteps, 4000, paradigm);
    // At most one gradient step per trainEvery (2) env steps after learningStarts.
    assert.ok(training.updates! >= 1 && training.updates! <= (4000 - 499) / 2, `${paradigm}: ${training.updates} updates`);
    // The learner (rank 0) acts in no environment: the two actors sent every transition, 2000 each, 100 rounds.
    assert.equal(agent.fitInfo!.comm[1]!.messagesSent, 100, paradigm);
    assert.equal(agent.fitInfo!.comm[2]!.messagesSent, 100, paradigm);
    assert.equal(agent.fitInfo!.comm[0]!.messagesSent, 200, `${paradigm}: one weights reply per message`);
    assert.ok(Number.isFinite(agent.score()));
  }
});

test('dqn learner: the second actor may be heard from before the first (asynchronous order)', () => {
  // Failed before the fix with "… is not iterable": the statistics of actor 0 were a hole.
  const q = new QNetwork({ observationLength: 4, actions: 2, hidden: [4], dtype: 'float64', seed: 0 });
  const reports: number[] = [];
  const context = { report: (event: { envSteps?: number }) => reports.push(event.envSteps ?? -1) } as unknown as TrainContext;
  const learner = new Learner(q, new DQN({ learningStarts: 1, steps: 10 }).params, new ReplayBuffer(10, 4), new Rng(0), 475, context, 2);
  const packed = new Float64Array(2 * packedWidth(4));
  packTransition(packed, 0, [0, 0, 0, 0], 1, 1, [0, 0, 0.01, 0], false);
  packTransition(packed, 1, [0, 0, 0.01, 0], 0, 1, [0, 0, 0.02, 0], false);
  learner.add(1, packed, 2, [0, 0, 2, 0]);
  learner.settle();
  assert.equal(learner.globalSteps, 2);
  learner.trainAll();
  assert.equal(learner.updates, 1); // steps 1 and 2, trainEvery 2: one gradient step due
});

test("dqn learner: scaleTrainEvery keeps one actor's pace (trainEvery × actors), and every event carries its utilisation", () => {
  const q = new QNetwork({ observationLength: 4, actions: 2, hidden: [4], dtype: 'float64', seed: 0 });
  const events: { envSteps?: number; learnerUtilisation?: number }[] = [];
  const context = { report: (event: (typeof events)[number]) => events.push(event) } as unknown as TrainContext;
  const packed = new Float64Array(100 * packedWidth(4));
  for (let i = 0; i < 100; i++) packTransition(packed, i, [0, 0, i / 1000, 0], i % 2, 1, [0, 0, (i + 1) / 1000, 0], false);
  const updates = (scaleTrainEvery: boolean): number => {
    const params = { ...new DQN({ learningStarts: 1, steps: 200, trainEvery: 2, batchSize: 8, scaleTrainEvery }).params };
    const learner = new Learner(q, params, new ReplayBuffer(200, 4), new Rng(0), 475, context, 2);
    learner.add(0, packed, 100, [0, 0, 100, 0]);
    learner.add(1, packed, 100, [0, 0, 100, 0]);
    learner.settle();
    learner.trainAll();
    learner.finish();
    return learner.updates;
  };
  assert.equal(updates(false), 100); // 200 env steps of 2 actors, one gradient step per 2
  assert.equal(updates(true), 50); // one per 2 × 2
  const last = events[events.length - 1]!;
  assert.equal(last.envSteps, 200);
  assert.ok(last.learnerUtilisation! > 0 && last.learnerUtilisation! <= 1, String(last.learnerUtilisation));
});

test('dqn metrics: learnerUtilisation in [0, 1], from the last progress event', async () => {
  const agent = await new DQN({ env: 'cartpole', steps: 1500, learningStarts: 200, hidden: [8], evalEpisodes: 2 }).fit();
  const { learnerUtilisation } = agent.metrics();
  assert.ok(learnerUtilisation !== undefined && learnerUtilisation > 0 && learnerUtilisation < 1, String(learnerUtilisation));
  assert.equal(agent.fitInfo!.history[agent.fitInfo!.history.length - 1]!.envSteps, 1500);
});
