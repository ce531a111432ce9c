/**
 * How fast each core of this machine runs the summation-form fits' kernel, alone and with every
 * core busy, and so the most a perfectly shared N-thread fit can gain over a one-thread fit here.
 * On a cloud VM the vCPUs need not be equal, nor stay as they are: on this kind of machine
 * (2026-12-05) vCPU 1 ran the sequential 1M×50 least-squares fit in 241–260 ms and vCPU 0 in
 * 190–209 ms (`taskset`, 10 fits each, twice), so two threads could then finish at most
 * 1 + 200/250 = 1.8× sooner than one thread on vCPU 0, with no overhead at all; 15 minutes later the
 * two took 185 and 189 ms, and in three later pairs of 6 fits vCPU 1 took 194, 243 and 203 ms
 * against 187–189 ms. The foundation benchmark probes the cores every round, beside its
 * threads×N ÷ sequential ratios.
 *
 * Each probe is a child process pinned to one core (`taskset -c <core>`, util-linux) that runs
 * the kernel of the exact least-squares and PCA covariance passes — syrk (XᵀX) on 1,024×50 blocks
 * streamed through 48 MB of WASM memory — for a fixed number of calls, and prints its wall
 * milliseconds. "Alone" runs one core's probe at a time; "together" starts every core's probe at
 * the same instant, so shared caches, memory bandwidth and the host's scheduling count too.
 *
 *   node dist/bench/core-speed.js            (prints one JSON line: per core, alone and together)
 */
import { execFile, execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import '../src/index.js';
import { kernels } from '../src/core/kernels.js';

const BLOCK_ROWS = 1024;
const COLS = 50;
/** Blocks in the streamed buffer: 117 × 400 KiB ≈ 48 MB, beyond the L3 a vCPU sees here. */
const BLOCKS = 117;
const CALLS = 600;
const WARMUP_CALLS = 150;

/** Wall milliseconds of CALLS syrk calls, after a warm-up, started no earlier than `startAt` (epoch ms). */
async function probe(startAt: number): Promise<number> {
  const k = kernels();
  const data = k.zeros('float64', BLOCKS * BLOCK_ROWS * COLS);
  const gram = k.zeros('float64', COLS * COLS);
  try {
    const x = data.array;
    for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
    const run = (calls: number): void => {
      for (let call = 0; call < calls; call++) k.syrk(BLOCK_ROWS, COLS, x, (call % BLOCKS) * BLOCK_ROWS * COLS, COLS, gram.array, 0);
    };
    run(WARMUP_CALLS);
    while (Date.now() < startAt) await new Promise((resolve) => setTimeout(resolve, 2));
    const start = performance.now();
    run(CALLS);
    return performance.now() - start;
  } finally {
    data.release();
    gram.release();
  }
}

const script = fileURLToPath(import.meta.url);
const execFileAsync = promisify(execFile);

/** Whether `taskset` can pin a child here (util-linux on Linux). */
export function canPin(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface CoreSpeeds {
  /** Per core, the probe's wall ms with the other cores idle (as far as this benchmark is concerned). */
  alone: number[];
  /** Per core, the probe's wall ms with every core's probe started at the same instant. */
  together: number[];
}

/** Both measurements for cores 0 … cores − 1: alone one after another, then together. */
export async function coreSpeeds(cores = availableParallelism()): Promise<CoreSpeeds> {
  const pinned = (core: number, startAt: number): Promise<{ stdout: string }> =>
    execFileAsync('taskset', ['-c', String(core), process.execPath, script, '--probe', String(startAt)], { encoding: 'utf8' });
  const alone: number[] = [];
  for (let core = 0; core < cores; core++) alone.push(Number((await pinned(core, 0)).stdout));
  // Node's start and the warm-up take ~0.5 s per child; the probes start together after that.
  const startAt = Date.now() + 2000;
  const together = (await Promise.all(Array.from({ length: cores }, (_, core) => pinned(core, startAt)))).map((r) => Number(r.stdout));
  return { alone, together };
}

/**
 * The most `workers` threads can gain over one thread on the fastest core: with each core's share of
 * the rows in proportion to its speed (the row board), Σ over the `workers` fastest cores busy
 * together of (fastest time ÷ that core's time together). The fastest time is the least of all the
 * probes, together ones included: right after a busy spell (the foundation's scikit-learn turns) the
 * probes alone ran at 164 and 143 ms and then together at 106 and 103, which against the alone
 * times would make two cores 2.73× one.
 * @example
 * speedupCeiling({ alone: [200, 250], together: [205, 255] }, 2); // 200/205 + 200/255 ≈ 1.76
 */
export function speedupCeiling(speeds: CoreSpeeds, workers: number): number {
  const fastest = Math.min(...speeds.alone, ...speeds.together);
  const together = [...speeds.together].sort((a, b) => a - b).slice(0, workers);
  return together.reduce((sum, ms) => sum + fastest / ms, 0);
}

if (process.argv[1] === script) {
  if (process.argv[2] === '--probe') {
    process.stdout.write(String(await probe(Number(process.argv[3] ?? 0))));
  } else if (!canPin()) {
    console.log('taskset not found (util-linux): cannot pin a probe to a core');
  } else {
    const speeds = await coreSpeeds();
    console.log(JSON.stringify({ ...speeds, ceiling: speedupCeiling(speeds, speeds.alone.length) }));
  }
}
