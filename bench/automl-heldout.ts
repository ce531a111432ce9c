/**
 * Tuned against default on held-out rows, on three real tabular data sets (issue 20): scikit-learn's
 * bundled copies of the UCI Breast Cancer Wisconsin (569 × 30, binary), Wine (178 × 13, 3 classes)
 * and Diabetes (442 × 10, regression) files, as Debian's python3-sklearn installs them. Each data set
 * is split 75/25 with 5 seeds; on each split the model's options are searched by 5-fold CV on the
 * training rows only (compare's tuning check, src/compare/tuning.ts), then defaults and best options
 * are fitted on all training rows and scored on the held-out rows.
 *   node dist/bench/automl-heldout.js [--seeds 1,2,3,4,5] [--trials 20] [--out bench/results/automl-heldout.json]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import '../src/index.js';
import { trainAndTest } from '../src/compare/data.js';
import { parseTuningList, runTuningCheck } from '../src/compare/tuning.js';
import type { TuningResult } from '../src/compare/tuning.js';
import { loadData } from '../src/data/index.js';

const SKLEARN_DATA = '/usr/lib/python3/dist-packages/sklearn/datasets/data';

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

function read(name: string): string {
  const bytes = readFileSync(join(SKLEARN_DATA, name));
  return name.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : bytes.toString('utf8');
}

/** scikit-learn's "n_samples,n_features,class names…" first line dropped; a header naming the label. */
function bundledCsv(name: string): string {
  const lines = read(name).trim().split('\n');
  const cols = Number(lines[0]!.split(',')[1]);
  const header = [...Array.from({ length: cols }, (_, i) => `x${i}`), 'label'].join(',');
  return [header, ...lines.slice(1)].join('\n') + '\n';
}

/** Diabetes comes as two whitespace-separated files, features and target. */
function diabetesCsv(): string {
  const x = read('diabetes_data_raw.csv.gz').trim().split('\n');
  const y = read('diabetes_target.csv.gz').trim().split('\n');
  const cols = x[0]!.trim().split(/\s+/).length;
  const header = [...Array.from({ length: cols }, (_, i) => `x${i}`), 'label'].join(',');
  return [header, ...x.map((row, i) => [...row.trim().split(/\s+/), Number(y[i])].join(','))].join('\n') + '\n';
}

const seeds = flag('seeds', '1,2,3,4,5').split(',').map(Number);
const trials = Number(flag('trials', '20'));
const out = flag('out', 'bench/results/automl-heldout.json');
const dir = mkdtempSync(join(tmpdir(), 'shardlearn-heldout-'));
const cases = [
  {
    name: 'breast-cancer',
    csv: (): string => bundledCsv('breast_cancer.csv'),
    model: 'logistic-regression',
    space: { l2: { type: 'log-uniform', low: 1e-6, high: 1 } },
  },
  {
    name: 'wine',
    csv: (): string => bundledCsv('wine_data.csv'),
    model: 'linear-svm',
    space: { l2: { type: 'log-uniform', low: 1e-5, high: 1 }, epochs: { type: 'int', low: 5, high: 50 } },
  },
  {
    name: 'diabetes',
    csv: diabetesCsv,
    model: 'linear-regression',
    space: { l2: { type: 'log-uniform', low: 1e-4, high: 100 } },
  },
];
const rows: (TuningResult & { dataset: string; seed: number })[] = [];
try {
  for (const c of cases) {
    const path = join(dir, `${c.name}.csv`);
    try {
      writeFileSync(path, c.csv());
    } catch (error) {
      console.log(JSON.stringify({ dataset: c.name, skipped: `${(error as Error).message} (install python3-sklearn)` }));
      continue;
    }
    const loaded = await loadData(path, { target: 'label' });
    for (const seed of seeds) {
      const [spec] = parseTuningList('tuning', [
        { model: c.model, data: path, space: c.space, trials, cv: 5, seed, pipeline: 'standardize' },
      ]);
      const result = await runTuningCheck(spec!, trainAndTest(loaded, 0.25, seed));
      rows.push({ ...result, dataset: c.name, seed });
      const gain = result.tunedScore === null || result.defaultScore === null ? null : result.tunedScore - result.defaultScore;
      console.log(
        JSON.stringify({
          dataset: c.name,
          seed,
          model: c.model,
          metric: result.metric,
          default: result.defaultScore,
          tuned: result.tunedScore,
          gain,
          best: result.bestParams,
          error: result.error,
        }),
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const summary = cases.map((c) => {
  const mine = rows.filter((r) => r.dataset === c.name && r.error === null);
  const gains = mine.map((r) => r.tunedScore! - r.defaultScore!);
  return {
    dataset: c.name,
    model: c.model,
    splits: mine.length,
    medianDefault: mine.length === 0 ? null : median(mine.map((r) => r.defaultScore!)),
    medianTuned: mine.length === 0 ? null : median(mine.map((r) => r.tunedScore!)),
    medianGain: gains.length === 0 ? null : median(gains),
    gainRange: gains.length === 0 ? null : [Math.min(...gains), Math.max(...gains)],
  };
});
console.log(JSON.stringify({ summary }));
writeFileSync(out, JSON.stringify({ seeds, trials, cv: 5, testFraction: 0.25, summary, runs: rows }, null, 2) + '\n');
