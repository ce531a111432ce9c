/**
 * Time for a join under `processes`: 3 workers train logistic regression by SGD (60 epochs on 4,500
 * rows) with minWorkers 2 and maxRestarts 1; rank 1 is SIGKILLed after epoch 3; the survivors re-form
 * at once, the launcher starts a replacement, and it joins at the next epoch boundary. Per repeat:
 *   wait      announcement → the epoch boundary where the world re-forms (FitInfo.joins waitMs)
 *   reform    that boundary → training on the bigger world (close, rendezvous, state, shard: reformMs)
 *   join      wait + reform (announce → training on the bigger world: joinMs)
 * and the load average beside them, as median [min – max].
 *
 * node dist/bench/elastic-join.js [--repeats 5]
 */
import { loadavg } from 'node:os';
import { createModel, loadData } from '../src/index.js';
import { childPids } from '../test/runtime/child-pids.js';

const at = process.argv.indexOf('--repeats');
const repeats = at < 0 ? 5 : Number(process.argv[at + 1]);
const SPEC = 'synthetic:classification?rows=6000&cols=10&seed=3';
const SPLIT = { testFraction: 0.25, seed: 1 };

const { train } = await loadData(SPEC);
const figures: Record<'wait' | 'reform' | 'join', number[]> = { wait: [], reform: [], join: [] };
const loads: number[] = [];
for (let repeat = 0; repeat < repeats; repeat++) {
  const before = new Set(childPids());
  let killed = false;
  const model = createModel('logistic-regression', { solver: 'sgd', epochs: 60, batchSize: 32, lr: 0.05 });
  await model.fit(train.slice(0, 0), {
    paradigm: 'processes',
    workers: 3,
    minWorkers: 2,
    maxRestarts: 1,
    source: { spec: SPEC, split: SPLIT },
    timeoutMs: 30_000,
    onProgress: (event) => {
      if (killed || event.iteration < 3) return;
      const victim = childPids().filter((pid) => !before.has(pid))[1];
      if (victim === undefined) return;
      killed = true;
      process.kill(victim, 'SIGKILL');
    },
  });
  const join = model.fitInfo?.joins?.[0];
  loads.push(loadavg()[0]!);
  if (join === undefined) {
    process.stderr.write(`repeat ${repeat}: the replacement did not join before the run ended\n`);
    continue;
  }
  figures.wait.push(join.waitMs);
  figures.reform.push(join.reformMs);
  figures.join.push(join.joinMs);
  process.stderr.write(`repeat ${repeat}: ${JSON.stringify(join)}, load ${loadavg()[0]!.toFixed(1)}\n`);
}
const summary = (values: number[]): string => {
  if (values.length === 0) return 'n/a';
  const sorted = [...values].sort((a, b) => a - b);
  return `${sorted[Math.floor(sorted.length / 2)]!.toFixed(0)} ms [${sorted[0]!.toFixed(0)} – ${sorted.at(-1)!.toFixed(0)}]`;
};
for (const name of ['wait', 'reform', 'join'] as const) console.log(`${name.padEnd(7)} ${summary(figures[name])}`);
console.log(`load average (1 min) ${Math.min(...loads).toFixed(1)} – ${Math.max(...loads).toFixed(1)} on ${repeats} repeats`);
