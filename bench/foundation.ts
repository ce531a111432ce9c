/**
 * The foundation benchmark: each classical model's sequential fit time on the sizes
 * (1,000,000×50 rows; k-means 1,000,000×20, k=10, 20 Lloyd iterations; PCA 200,000×100, 10
 * components), median and spread of REPEATS runs, and — when Debian's python3-sklearn is
 * installed — scikit-learn's time on the same shapes in the same run, as a ratio.
 *
 *   node dist/bench/foundation.js            (BENCH_SCALE=0.1 for a quick run, BENCH_REPEATS=3)
 *
 * Writes bench/results/foundation.json. Data generation is excluded from the timings.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import '../src/index.js';
import { kernels } from '../src/core/kernels.js';
import { loadData } from '../src/data/index.js';
import { createModel, evaluate } from '../src/models/index.js';

const scale = Number(process.env['BENCH_SCALE'] ?? '1');
const repeats = Number(process.env['BENCH_REPEATS'] ?? '3');
const rows = (n: number): number => Math.round(n * scale);

interface Case {
  id: string;
  model: string;
  params: Record<string, unknown>;
  data: string;
}

const cases: Case[] = [
  {
    id: 'linear-regression/exact',
    model: 'linear-regression',
    params: { solver: 'exact' },
    data: `synthetic:regression?rows=${rows(1e6)}&cols=50&seed=1`,
  },
  {
    id: 'linear-regression/sgd',
    model: 'linear-regression',
    params: { solver: 'sgd', epochs: 5, lr: 0.01, batchSize: 64 },
    data: `synthetic:regression?rows=${rows(1e6)}&cols=50&seed=1`,
  },
  {
    id: 'logistic-regression/lbfgs',
    model: 'logistic-regression',
    params: { solver: 'lbfgs', maxIter: 100 },
    data: `synthetic:classification?rows=${rows(1e6)}&cols=50&classes=2&seed=1`,
  },
  {
    id: 'linear-svm/sgd',
    model: 'linear-svm',
    params: { epochs: 5, batchSize: 64 },
    data: `synthetic:classification?rows=${rows(1e6)}&cols=50&classes=2&seed=1`,
  },
  {
    id: 'kmeans/lloyd',
    model: 'kmeans',
    params: { k: 10, maxIter: 20, tol: 0, init: 'random' },
    data: `synthetic:blobs?rows=${rows(1e6)}&cols=20&centers=10&seed=1`,
  },
  {
    id: 'pca/full',
    model: 'pca',
    params: { components: 10, solver: 'full' },
    data: `synthetic:lowrank?rows=${rows(2e5)}&cols=100&rank=10&seed=1`,
  },
  {
    id: 'pca/randomized',
    model: 'pca',
    params: { components: 10, solver: 'randomized' },
    data: `synthetic:lowrank?rows=${rows(2e5)}&cols=100&rank=10&seed=1`,
  },
];

function summary(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted[sorted.length - 1]! };
}

function sklearnTimes(): Record<string, number> | null {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  try {
    execFileSync(python, ['-c', 'import sklearn'], { stdio: 'ignore' });
  } catch {
    console.log('scikit-learn not found (apt-get install python3-sklearn): no ratio reported');
    return null;
  }
  const output = execFileSync(python, ['scripts/bench_sklearn.py', String(repeats), String(scale)], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output) as Record<string, number>;
}

const results: Record<string, unknown>[] = [];
for (const c of cases) {
  const { train } = await loadData(c.data);
  const seconds: number[] = [];
  let metrics: Record<string, number | number[]> = {};
  for (let r = 0; r < repeats; r++) {
    const model = createModel(c.model, c.params);
    await model.fit(train);
    seconds.push(model.fitInfo!.seconds);
    metrics = evaluate(model, train);
  }
  const s = summary(seconds);
  results.push({ case: c.id, rows: train.rows, cols: train.cols, seconds: s, trainMetrics: metrics });
  console.log(
    `${c.id.padEnd(28)} ${train.rows}×${train.cols}  median ${s.median.toFixed(3)} s (min ${s.min.toFixed(3)}, max ${s.max.toFixed(3)})`,
  );
}
const sklearn = sklearnTimes();
if (sklearn !== null) {
  for (const result of results) {
    const theirs = sklearn[result['case'] as string];
    if (theirs === undefined) continue;
    result['sklearnSeconds'] = theirs;
    result['ratioToSklearn'] = (result['seconds'] as { median: number }).median / theirs;
    console.log(
      `${String(result['case']).padEnd(28)} scikit-learn ${theirs.toFixed(3)} s  ours/sklearn ${(result['ratioToSklearn'] as number).toFixed(2)}×`,
    );
  }
}
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  'bench/results/foundation.json',
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, kernels: kernels().name, scale, repeats, results }, null, 2)}\n`,
);
console.log('wrote bench/results/foundation.json');
