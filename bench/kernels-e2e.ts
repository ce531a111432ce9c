/**
 * End-to-end effect of the kernel backend (issue 7, "before and after"): the foundation models' fit
 * time and one CNN epoch with SHARDLEARN_KERNELS=ts (before: the plain-TypeScript kernels) and
 * SHARDLEARN_KERNELS=wasm (after), in the same run. Each setting runs in its own child process, so
 * the variable takes effect at start-up exactly as it does for a user; the two children run one
 * after the other, never at once.
 *
 *   node dist/bench/kernels-e2e.js     # E2E_SCALE=0.2 shrinks the row counts, E2E_REPEATS=3
 *
 * Writes bench/results/kernels-e2e.json: per case and backend the median fit seconds (wall, as
 * fitInfo reports it) and the process CPU seconds of the same fits, plus ts/wasm ratios. Data
 * loading is outside the timings. Cases (default sizes = the foundation benchmark's):
 * linear-regression exact 1,000,000×50; logistic-regression lbfgs 1,000,000×50 (100 iterations);
 * k-means 1,000,000×20, k=10, 20 iterations, tol 0, random init; PCA full 200,000×100; CNN one
 * epoch on the first 2,000 of the built-in MNIST training images, float32, batch 64 (not scaled).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createModel, kernels, loadData } from '../src/index.js';

interface Case {
  id: string;
  model: string;
  params: Record<string, unknown>;
  data: string;
  dtype?: 'float32';
  /** Keep only the first `rows` rows (the CNN: one epoch on all 8,000 images takes ~90 s with ts). */
  rows?: number;
}

interface Timing {
  case: string;
  rows: number;
  cols: number;
  backend: string;
  seconds: number[];
  cpuSeconds: number[];
}

const scale = Number(process.env['E2E_SCALE'] ?? '1');
const repeats = Number(process.env['E2E_REPEATS'] ?? '3');
const rows = (n: number): number => Math.round(n * scale);

const cases: Case[] = [
  {
    id: 'linear-regression/exact',
    model: 'linear-regression',
    params: { solver: 'exact' },
    data: `synthetic:regression?rows=${rows(1e6)}&cols=50&seed=1`,
  },
  {
    id: 'logistic-regression/lbfgs',
    model: 'logistic-regression',
    params: { solver: 'lbfgs', maxIter: 100 },
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
  { id: 'cnn/epoch', model: 'cnn', params: { epochs: 1, lr: 0.001, batchSize: 64 }, data: 'builtin:mnist', dtype: 'float32', rows: 2000 },
];

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** Child: time every case with whatever backend SHARDLEARN_KERNELS selected; JSON on stdout. */
async function child(): Promise<void> {
  const timings: Timing[] = [];
  for (const c of cases) {
    const loaded = (await loadData(c.data, c.dtype === undefined ? {} : { dtype: c.dtype })).train;
    const train = c.rows === undefined ? loaded : loaded.slice(0, Math.min(c.rows, loaded.rows));
    const timing: Timing = { case: c.id, rows: train.rows, cols: train.cols, backend: kernels().name, seconds: [], cpuSeconds: [] };
    for (let r = 0; r < repeats; r++) {
      const model = createModel(c.model, c.params);
      const cpuStart = process.cpuUsage();
      await model.fit(train);
      const cpu = process.cpuUsage(cpuStart);
      timing.seconds.push(model.fitInfo!.seconds);
      timing.cpuSeconds.push((cpu.user + cpu.system) / 1e6);
    }
    process.stderr.write(
      `  ${timing.backend.padEnd(4)} ${c.id.padEnd(26)} ${train.rows}×${train.cols}  ${timing.seconds.map((s) => s.toFixed(3)).join(' ')} s\n`,
    );
    timings.push(timing);
  }
  process.stdout.write(JSON.stringify(timings));
}

function parent(): void {
  const loadBefore = loadavg();
  console.log(`load average at start: ${loadBefore.map((value) => value.toFixed(1)).join(' ')}; scale ${scale}, ${repeats} repeats`);
  const byBackend: Record<string, Timing[]> = {};
  for (const backend of ['ts', 'wasm']) {
    const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child'], {
      env: { ...process.env, SHARDLEARN_KERNELS: backend },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 24,
    });
    if (result.status !== 0) throw new Error(`child with SHARDLEARN_KERNELS=${backend} failed (status ${result.status})`);
    byBackend[backend] = JSON.parse(result.stdout) as Timing[];
  }
  const records = cases.map((c) => {
    const of = (backend: string): Timing => byBackend[backend]!.find((t) => t.case === c.id)!;
    const ts = of('ts');
    const wasm = of('wasm');
    const record = {
      case: c.id,
      rows: ts.rows,
      cols: ts.cols,
      scale: c.model === 'cnn' ? 1 : scale,
      tsSeconds: median(ts.seconds),
      wasmSeconds: median(wasm.seconds),
      tsCpuSeconds: median(ts.cpuSeconds),
      wasmCpuSeconds: median(wasm.cpuSeconds),
      speedup: median(ts.seconds) / median(wasm.seconds),
      cpuSpeedup: median(ts.cpuSeconds) / median(wasm.cpuSeconds),
      tsRuns: ts.seconds,
      wasmRuns: wasm.seconds,
    };
    console.log(
      `${c.id.padEnd(26)} ${String(ts.rows).padStart(8)}×${ts.cols}  ts ${record.tsSeconds.toFixed(3)} s  wasm ${record.wasmSeconds.toFixed(3)} s` +
        `  ${record.speedup.toFixed(2)}× (CPU ${record.tsCpuSeconds.toFixed(2)} / ${record.wasmCpuSeconds.toFixed(2)} s, ${record.cpuSpeedup.toFixed(2)}×)`,
    );
    return record;
  });
  const loadAfter = loadavg();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    'bench/results/kernels-e2e.json',
    `${JSON.stringify({ scale, repeats, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter, records }, null, 2)}\n`,
  );
  console.log(`load average at end: ${loadAfter.map((value) => value.toFixed(1)).join(' ')}; wrote bench/results/kernels-e2e.json`);
}

if (process.argv.includes('--child')) await child();
else parent();
