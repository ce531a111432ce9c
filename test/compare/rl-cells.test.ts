// Reinforcement-learning cells in compare: an agent's cells take its environment for data (whatever
// the matrix's data), one strategy, and are measured by env steps/s, learner utilisation and time to
// the target return; the report shows them and the parallel-actors claim reads them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { defaultMatrixSpec, expandMatrix, parseMatrix } from '../../src/compare/matrix.js';
import { runMatrix } from '../../src/compare/runner.js';
import { summarize } from '../../src/compare/summary.js';
import { evaluateClaims } from '../../src/compare/claims.js';
import { renderReport } from '../../src/compare/report.js';

test('agent cells: the environment as data (the matrix data ignored), one strategy; in the default matrix, DQN only beyond --quick', () => {
  const matrix = parseMatrix({
    models: [
      { name: 'q-learning', params: { env: 'frozenlake-4x4', slippery: true } },
      { name: 'dqn', params: { steps: 2000 } },
    ],
    data: ['synthetic:classification?rows=100&cols=2&seed=1'],
    paradigms: ['sequential', 'threads'],
    workers: [2],
    strategies: ['allreduce', 'hogwild'],
  });
  const { cells } = expandMatrix(matrix, ['sequential', 'threads']);
  assert.deepEqual(
    cells.map((c) => `${c.model} ${c.data} ${c.paradigm}×${c.workers} ${c.strategy}`),
    [
      'q-learning env:frozenlake-4x4?slippery sequential×1 allreduce',
      'q-learning env:frozenlake-4x4?slippery threads×2 allreduce',
      'dqn env:cartpole sequential×1 allreduce',
      'dqn env:cartpole threads×2 allreduce',
    ],
  );
  const names = (rows: number): string[] =>
    (defaultMatrixSpec({ rows }).models as { name: string }[]).map((m) => m.name).filter((n) => n === 'q-learning' || n === 'dqn');
  assert.deepEqual(names(20_000), ['q-learning']);
  assert.deepEqual(names(200_000), ['q-learning', 'dqn']);
});

test('a tiny RL comparison: env steps/s, learner utilisation and time to target per cell; the report and the parallel-actors claim read them', async () => {
  const matrix = parseMatrix({
    name: 'rl-tiny',
    models: [
      // Deterministic FrozenLake: the greedy path is learnt within a few hundred episodes.
      { name: 'q-learning', params: { env: 'frozenlake-4x4', episodes: 3000, syncEvery: 50 } },
      { name: 'dqn', params: { steps: 1500, learningStarts: 200, hidden: [8], scaleTrainEvery: true, syncEvery: 10, evalEpisodes: 3 } },
    ],
    paradigms: ['sequential', 'threads'],
    workers: [2],
    repeats: 1,
    warmup: false,
  });
  const result = await runMatrix(matrix, {});
  assert.ok(
    result.records.every((r) => r.status === 'ok'),
    result.records.map((r) => r.error).join('; '),
  );
  const cells = summarize(result.records);
  assert.equal(cells.length, 4);
  for (const cell of cells) {
    assert.ok(cell.rl !== null, cell.cellId);
    assert.ok(cell.rl.envStepsPerSecond!.median > 0, cell.cellId);
    assert.equal(cell.rl.learnerUtilisation === null, cell.model === 'q-learning', `${cell.cellId}: utilisation only for DQN`);
  }
  const lake = cells.filter((c) => c.model === 'q-learning');
  // The training mean reached FrozenLake's 0.70 within 3000 deterministic episodes, on one actor and on two.
  assert.ok(
    lake.every((c) => c.rl!.reachedTarget === 1 && c.rl!.timeToTargetMs!.median > 0),
    JSON.stringify(lake.map((c) => c.rl)),
  );
  const claim = evaluateClaims(cells).find((c) => c.id === 'parallel-actors')!;
  assert.notEqual(claim.verdict, 'not measured yet');
  assert.match(claim.evidence, /dqn env:cartpole threads×2 allreduce \(2 actors\): [\d.]+× one actor's env steps\/s/);
  const html = await renderReport(result);
  assert.match(html, /<h2>Reinforcement learning: parallel actors<\/h2>/);
  assert.match(html, /the learner spends \d+% of its wall time in gradient steps \(one actor: \d+%\)/);
  assert.match(html, /id="claim-parallel-actors"/);
});
