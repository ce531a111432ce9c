/**
 * ASHA against random search on an MLP space (issue 20's "ASHA reaches random search's best CV score
 * with ≤ 1/3 of its trial-epochs"), on seeded synthetic data (the default, seconds) or on the first
 * `--rows` training digits of builtin:mnist (minutes):
 *   node dist/bench/automl-asha.js [--seeds 1,2,3] [--trials 27] [--max-epochs 27] [--data builtin:mnist --rows 3000]
 * Random search trains each of `trials` configurations for `max-epochs`; ASHA (eta 3) samples as many
 * configurations starting at 1 epoch. Both use the same 3 stratified folds. Prints one JSON line per
 * seed: each searcher's best CV accuracy (over every budget) and the epochs it spent.
 */
import { loadData, syntheticGenerator, tune } from '../src/index.js';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

const seeds = flag('seeds', '1,2,3').split(',').map(Number);
const trials = Number(flag('trials', '27'));
const maxEpochs = Number(flag('max-epochs', '27'));
const source = flag('data', 'synthetic');
const rows = Number(flag('rows', '3000'));
const data =
  source === 'synthetic'
    ? syntheticGenerator({ kind: 'classification', rows, cols: 20, classes: 4, separation: 1.2, seed: 7 }).generate()
    : (await loadData(source)).train.slice(0, rows);
const space = {
  lr: { type: 'log-uniform', low: 1e-4, high: 1e-1 },
  hidden: { type: 'choice', values: source === 'synthetic' ? [[16], [64], [64, 32]] : [[32], [128], [128, 64]] },
  batchSize: { type: 'choice', values: [32, 128] },
};

for (const seed of seeds) {
  const common = { model: 'mlp', cv: 3, stratified: true, trials, seed } as const;
  const random = await tune(data, { ...common, space: { ...space, epochs: maxEpochs }, searcher: 'random' });
  const asha = await tune(data, { ...common, space, searcher: 'asha', resource: { kind: 'epochs', min: 1, max: maxEpochs } });
  console.log(
    JSON.stringify({
      seed,
      data: source,
      rows: data.rows,
      random: { best: random.best?.score, epochs: trials * maxEpochs, seconds: random.seconds },
      asha: { best: asha.best?.score, bestEpochs: asha.best?.resource, epochs: asha.resourceSpent, seconds: asha.seconds },
    }),
  );
}
