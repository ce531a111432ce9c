// The environments' dynamics pinned step by step: CartPole against the Gym equations evaluated
// independently (Python, float64, literals below), FrozenLake's slip probabilities measured over
// many seeded steps within a binomial bound, CliffWalking's cliff and shortest path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CART_POLE, CartPole } from '../../src/rl/cart-pole.js';
import { CLIFF_GOAL, CLIFF_START, CliffWalking } from '../../src/rl/cliff-walking.js';
import { DOWN, FrozenLake, LEFT, RIGHT, UP } from '../../src/rl/frozen-lake.js';
import { makeEnv } from '../../src/rl/registry.js';
import { VectorEnv } from '../../src/rl/vector.js';

function close(actual: ArrayLike<number>, expected: readonly number[], tolerance = 1e-15): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tolerance * Math.max(1, Math.abs(expected[i]!)),
      `entry ${i}: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

test('cartpole: one step from rest matches the closed form of the equations', () => {
  const env = new CartPole();
  env.setState([0, 0, 0, 0]);
  const { observation, reward, terminated, truncated } = env.step(1);
  // θ = θ̇ = 0: temp = F/(m_c+m_p), θ̈ = −temp / (l·(4/3 − m_p/(m_c+m_p))), ẍ = temp − m_p·l·θ̈/(m_c+m_p).
  const total = CART_POLE.massCart + CART_POLE.massPole;
  const temp = 10 / total;
  const thetaAcc = -temp / (0.5 * (4 / 3 - 0.1 / total));
  const xAcc = temp - (0.1 * 0.5 * thetaAcc) / total;
  close(observation, [0, 0.02 * xAcc, 0, 0.02 * thetaAcc]);
  assert.ok(Math.abs(0.02 * thetaAcc + 0.29268) < 1e-4); // −0.2927 by hand
  assert.equal(reward, 1);
  assert.equal(terminated, false);
  assert.equal(truncated, false);
});

test('cartpole: three steps match the Gym equations evaluated in Python', () => {
  const env = new CartPole();
  env.setState([0.01, -0.02, 0.03, 0.04]);
  close(env.step(1).observation, [0.009600000000000001, 0.17467919574755525, 0.030799999999999998, -0.24306871796000815]);
  close(env.step(1).observation, [0.013093583914951107, 0.3693479760579556, 0.025938625640799833, -0.5258796280501484]);
  close(env.step(0).observation, [0.02048054343611022, 0.17387081260481596, 0.015421033079796864, -0.22513741609237475]);
});

test('cartpole: always pushing right from rest drops the pole past 12° on step 9, reward included', () => {
  const env = new CartPole();
  env.setState([0, 0, 0, 0]);
  for (let i = 1; i <= 8; i++) assert.equal(env.step(1).terminated, false, `step ${i}`);
  const last = env.step(1);
  assert.equal(last.terminated, true);
  assert.equal(last.reward, 1);
  close(last.observation, [0.14065097203306187, 1.7603811257683097, -0.21518604988500967, -2.777886494012814], 1e-13);
  assert.throws(() => env.step(0), /after the episode ended/);
});

test('cartpole: reset is seeded, uniform in ±0.05, and episodes truncate at 500 steps', () => {
  const env = new CartPole();
  const a = env.reset(3);
  assert.deepEqual(env.reset(3), a);
  assert.notDeepEqual(env.reset(4), a);
  for (const v of a) assert.ok(Math.abs(v) <= 0.05);
  const short = new CartPole({ maxEpisodeSteps: 5 });
  short.setState([0, 0, 0, 0]);
  const ends = [0, 1, 0, 1, 0].map((action) => short.step(action));
  assert.deepEqual(
    ends.map((s) => s.truncated),
    [false, false, false, false, true],
  );
  assert.equal(ends[4]!.terminated, false);
});

test('frozenlake 4x4 deterministic: the map, its holes, the goal and the 100-step limit', () => {
  const env = new FrozenLake({ map: '4x4' });
  assert.equal(env.observationSpace.n, 16);
  assert.equal(env.reset(0)[0], 0);
  const path = [DOWN, DOWN, RIGHT, RIGHT, DOWN, RIGHT];
  const states = path.map((action) => env.step(action));
  assert.deepEqual(
    states.map((s) => s.observation[0]),
    [4, 8, 9, 10, 14, 15],
  );
  assert.deepEqual(
    states.map((s) => s.reward),
    [0, 0, 0, 0, 0, 1],
  );
  assert.equal(states[5]!.terminated, true);
  env.reset();
  const hole = env.step(RIGHT) && env.step(DOWN); // 0 → 1 → 5, a hole
  assert.equal(hole.observation[0], 5);
  assert.equal(hole.terminated, true);
  assert.equal(hole.reward, 0);
  env.reset();
  let last = env.step(LEFT);
  assert.equal(last.observation[0], 0); // walls keep the agent in place
  for (let i = 1; i < 100; i++) last = env.step(UP);
  assert.equal(last.truncated, true);
  assert.equal(new FrozenLake({ map: '8x8' }).observationSpace.n, 64);
  assert.equal(new FrozenLake({ map: '8x8' }).maxEpisodeSteps, 200);
});

test('frozenlake slippery: intended and both perpendicular moves, 1/3 each within a binomial bound', () => {
  const env = new FrozenLake({ map: '4x4', slippery: true });
  // From state 9 (row 2, col 1) every direction leads to a different tile: LEFT 8, DOWN 13, RIGHT 10, UP 5.
  const target = { [LEFT]: 8, [DOWN]: 13, [RIGHT]: 10, [UP]: 5 } as Record<number, number>;
  const trials = 30_000;
  for (const action of [LEFT, DOWN, RIGHT, UP]) {
    const counts = new Map<number, number>();
    env.reset(100 + action);
    for (let t = 0; t < trials; t++) {
      (env as unknown as { state: number }).state = 9;
      const next = env.step(action).observation[0]!;
      counts.set(next, (counts.get(next) ?? 0) + 1);
    }
    const expected = [(action + 3) % 4, action, (action + 1) % 4].map((d) => target[d]!);
    assert.deepEqual(
      [...counts.keys()].sort((a, b) => a - b),
      [...expected].sort((a, b) => a - b),
      `action ${action}`,
    );
    // Binomial(n, 1/3): sd = √(n·(1/3)·(2/3)) ≈ 81.6; 5 sd ≈ 408.
    const bound = 5 * Math.sqrt((trials * 2) / 9);
    for (const state of expected)
      assert.ok(Math.abs(counts.get(state)! - trials / 3) < bound, `action ${action} → ${state}: ${counts.get(state)}`);
  }
});

test('frozenlake slippery: the same seed replays the same episode', () => {
  const run = (seed: number): number[] => {
    const env = new FrozenLake({ map: '8x8', slippery: true });
    env.reset(seed);
    const states: number[] = [];
    for (let i = 0; i < 50; i++) {
      const step = env.step(i % 4);
      states.push(step.observation[0]!);
      if (step.terminated || step.truncated) env.reset();
    }
    return states;
  };
  assert.deepEqual(run(7), run(7));
  assert.notDeepEqual(run(7), run(8));
});

test('cliffwalking: the cliff costs −100 and returns to the start; the shortest path returns −13', () => {
  const env = new CliffWalking();
  assert.equal(env.reset(0)[0], CLIFF_START);
  const fall = env.step(1); // RIGHT from the start: onto the cliff
  assert.deepEqual([fall.observation[0], fall.reward, fall.terminated], [CLIFF_START, -100, false]);
  env.reset();
  let total = 0;
  let last = env.step(0); // UP
  total += last.reward;
  for (let i = 0; i < 11; i++) {
    last = env.step(1);
    total += last.reward;
  }
  last = env.step(2); // DOWN onto the goal
  total += last.reward;
  assert.equal(last.observation[0], CLIFF_GOAL);
  assert.equal(last.terminated, true);
  assert.equal(total, -13);
});

test('makeEnv: names, and slippery refused outside FrozenLake', () => {
  assert.equal(makeEnv('frozenlake-8x8', { slippery: true }).name, 'frozenlake-8x8');
  assert.throws(() => makeEnv('cartpole', { slippery: true }), /FrozenLake/);
  assert.throws(() => makeEnv('mountaincar'), /unknown environment 'mountaincar'.*cartpole/);
  assert.throws(() => makeEnv('cliffwalking').step(4), /action must be an integer in 0..3/);
});

test("vector env: copies seeded seed + i see the single environments' episodes, with autoreset", () => {
  const envs = new VectorEnv(() => makeEnv('cartpole'), 3);
  const first = envs.reset(10);
  const singles = [0, 1, 2].map(() => new CartPole());
  singles.forEach((env, i) => assert.deepEqual(first.subarray(i * 4, i * 4 + 4), env.reset(10 + i)));
  let resets = 0;
  for (let t = 0; t < 60; t++) {
    const actions = [1, 1, 0];
    const out = envs.step(actions);
    singles.forEach((env, i) => {
      const step = env.step(actions[i]!);
      assert.equal(out.rewards[i], step.reward);
      assert.equal(out.terminated[i], step.terminated ? 1 : 0);
      if (step.terminated || step.truncated) {
        resets++;
        assert.deepEqual(out.finalObservations[i], step.observation);
        assert.deepEqual(out.observations.subarray(i * 4, i * 4 + 4), env.reset());
      } else {
        assert.equal(out.finalObservations[i], null);
        assert.deepEqual(out.observations.subarray(i * 4, i * 4 + 4), step.observation);
      }
    });
  }
  assert.ok(resets > 3, 'episodes ended and were reset');
});
