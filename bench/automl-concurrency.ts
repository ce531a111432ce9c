/**
 * Trials per hour with 1 and 2 trials at a time (issue 20: "2 workers ≥ 1.8× one worker"):
 *   node dist/bench/automl-concurrency.js [--repeats 3] [--trials 8] [--epochs 20] [--rows 20000]
 * A random search over an MLP's learning rate, 2 folds, every fold's fit on the `threads` paradigm
 * with one worker (so two trials at once use two cores). Concurrency 1 and 2 alternate in each
 * repeat, so a change in the machine's load hits both. Prints one JSON line per study and the ratio
 * of the medians.
 */
import { shutdownThreadPool, syntheticGenerator, tune } from '../src/index.js';

function flag(name: string, fallback: string): number {
  const at = process.argv.indexOf(`--${name}`);
  return Number(at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback);
}

const repeats = flag('repeats', '3');
const trials = flag('trials', '8');
const data = syntheticGenerator({ kind: 'classification', rows: flag('rows', '20000'), cols: 40, classes: 3, seed: 1 }).generate();
const space = { lr: { type: 'log-uniform', low: 1e-4, high: 1e-2 }, epochs: flag('epochs', '20'), hidden: [64] };
const perHour: Record<number, number[]> = { 1: [], 2: [] };
for (let r = 0; r < repeats; r++) {
  for (const concurrency of [1, 2]) {
    const study = await tune(data, {
      model: 'mlp',
      space,
      searcher: 'random',
      trials,
      cv: 2,
      concurrency,
      seed: r,
      fit: { paradigm: 'threads', workers: 1 },
    });
    const rate = (study.trials.length / study.seconds) * 3600;
    perHour[concurrency]!.push(rate);
    console.log(JSON.stringify({ repeat: r, concurrency, seconds: study.seconds, trialsPerHour: Math.round(rate) }));
  }
}
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
console.log(
  JSON.stringify({
    medianTrialsPerHour: { one: Math.round(median(perHour[1]!)), two: Math.round(median(perHour[2]!)) },
    ratio: median(perHour[2]!) / median(perHour[1]!),
  }),
);
await shutdownThreadPool();
