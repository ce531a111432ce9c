/**
 * CNN training speed against PyTorch on this machine, in one run (issue 5):
 *   node dist/bench/cnn-vs-pytorch.js [--images 60000] [--repeats 3] [--modes torch1,torch2,ddp2,ours1,ours2]
 *       [--before <checkout>] [--out cnn-vs-pytorch]
 *   # writes bench/results/<out>.json; `npm run bench:cnn` builds first
 *
 * Both sides train the default CNN (conv 5×5×32 – pool 2 – ReLU – conv 5×5×64 – pool 2 – ReLU –
 * dense 128 – ReLU – dense 10) on the first `--images` of Fashion-MNIST's 60,000 training images
 * (default: one whole epoch; each side shuffles them with its own seeded generator), batch 64, SGD
 * lr 0.01 momentum 0.9, float32, then score the 10,000 test images. Modes: ours sequential (ours1),
 * 2 worker threads (ours2) and 2 processes (oursProcesses2, on the local path's collective lane;
 * allreduce: every step one global batch of 64 split over the workers); PyTorch (scripts/bench/pytorch_cnn.py, Debian's python3-torch at
 * /usr/bin/python3) with 1 intra-op thread (torch1), 2 (torch2), and DDP over 2 gloo processes of
 * 1 thread with the same split of each global batch (ddp2). `--before <checkout>` adds before1 and
 * before2: ours1/ours2 run by another built checkout's copy of this script (the code before a
 * change); ours1Plain/ours2Plain run ours with the plain-SIMD module (SHARDLEARN_WASM_SIMD=plain).
 * When torch is not importable the PyTorch modes are skipped with the reason.
 *
 * Every run is a fresh process (its own warm-up, excluded from the time: ours2 and oursProcesses2
 * train on the threads and processes the warm-up fit started, as PyTorch's timer starts after its
 * DDP processes are up), and the repeats are
 * interleaved — round r runs every mode once — so a change in the machine's load (2 cores, shared)
 * lands on all modes alike rather than on whichever ran last. Each record keeps every run, the
 * median, the spread (min–max) and the load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModel, loadData, shutdownProcessPool } from '../src/index.js';
import type { Paradigm } from '../src/models/paradigm.js';

const PYTHON = process.env['SHARDLEARN_PYTHON'] ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../scripts/bench/pytorch_cnn.py', import.meta.url));
const TRAINING = { epochs: 1, batchSize: 64, optimizer: 'sgd', lr: 0.01, momentum: 0.9, seed: 0 } as const;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

interface Run {
  seconds: number;
  imagesPerSecond: number;
  testAccuracy: number;
  /** How ours' ranks talked (FitInfo.transport: 'lane-ipc' on the local path); absent for sequential, threads and PyTorch. */
  transport?: string;
  /** The 1-minute load average when the run ended (the machine is shared). */
  load?: number;
}

/** Median, min and max of the runs' images/s, with every run kept. */
function summarise(runs: Run[]): Record<string, unknown> {
  const rates = runs.map((r) => r.imagesPerSecond).sort((a, b) => a - b);
  return {
    runs,
    medianImagesPerSecond: rates[rates.length >> 1]!,
    spreadImagesPerSecond: [rates[0]!, rates[rates.length - 1]!],
    medianTestAccuracy: [...runs.map((r) => r.testAccuracy)].sort((a, b) => a - b)[runs.length >> 1]!,
  };
}

/** One timed fit of ours in this process: a warm-up fit, then the timed one, then the test score. */
async function oursOnce(mode: string, images: number): Promise<Run> {
  const [paradigm, workers]: [Paradigm, number] =
    mode === 'ours1' ? ['sequential', 1] : mode === 'ours2' ? ['threads', 2] : ['processes', 2];
  const { train: all, test } = await loadData('builtin:fashion-mnist', { dtype: 'float32', placement: 'shared' });
  const train = all.slice(0, Math.min(images, all.rows));
  // Processes from the warm pool the warm-up fit fills: worker start-up is not training speed
  // (threads reuse their pool by default; PyTorch's timer starts once its DDP processes are up).
  const options = workers === 1 ? {} : { paradigm, workers, ...(paradigm === 'processes' && { reuseProcesses: true }) };
  await createModel('cnn', { ...TRAINING }).fit(train.slice(0, 640), options); // warm-up of the JIT and WASM tiers
  const model = createModel('cnn', { ...TRAINING });
  await model.fit(train, options);
  const seconds = model.fitInfo!.seconds;
  await shutdownProcessPool();
  return {
    seconds,
    imagesPerSecond: train.rows / seconds,
    testAccuracy: model.score(test!),
    ...(model.fitInfo!.transport !== undefined && { transport: model.fitInfo!.transport }),
  };
}

/** One run of `mode` in a child process: ours via this script (or a `before` checkout's copy), PyTorch via Python. */
function runOnce(mode: string, images: number, before: string | undefined): Run | { skipped: string } {
  const torchMode = ({ torch1: 'threads1', torch2: 'threads2', ddp2: 'ddp2' } as Record<string, string | undefined>)[mode];
  const command =
    torchMode !== undefined
      ? [
          PYTHON,
          SCRIPT,
          '--mode',
          torchMode,
          '--images',
          String(images),
          '--repeats',
          '1',
          '--lr',
          String(TRAINING.lr),
          '--momentum',
          String(TRAINING.momentum),
        ]
      : [
          process.execPath,
          mode.startsWith('before') ? join(before!, 'dist/bench/cnn-vs-pytorch.js') : fileURLToPath(import.meta.url),
          '--single',
          mode.replace('before', 'ours').replace('Plain', ''),
          '--images',
          String(images),
        ];
  // `…Plain`: the WASM module without relaxed SIMD (the gemm's fused multiply-add off).
  const env = mode.endsWith('Plain') ? { ...process.env, SHARDLEARN_WASM_SIMD: 'plain' } : process.env;
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', maxBuffer: 1 << 24, env });
  if (result.status !== 0)
    return {
      skipped: `${command.join(' ')} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}`,
    };
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Run;
}

/** Round r's ratio a/b for every round where both modes ran: median, min and max. */
function roundRatios(runs: Map<string, Run[]>, a: string, b: string): { median: number; spread: [number, number] } | null {
  const as = runs.get(a) ?? [];
  const bs = runs.get(b) ?? [];
  const ratios = as.slice(0, bs.length).map((run, i) => run.imagesPerSecond / bs[i]!.imagesPerSecond);
  if (ratios.length === 0) return null;
  ratios.sort((x, y) => x - y);
  return { median: ratios[ratios.length >> 1]!, spread: [ratios[0]!, ratios[ratios.length - 1]!] };
}

/** A target's verdict: met, missed, or null when a mode did not run. */
function check(value: number | null, met: (value: number) => boolean): boolean | null {
  return value === null ? null : met(value);
}

function torchMissing(): string | null {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return probe.status === 0
    ? null
    : `torch is not importable by ${PYTHON} (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1)}); install Debian's python3-torch`;
}

async function main(): Promise<void> {
  const images = Number(argument('images', '60000'));
  const single = argument('single', '');
  if (single !== '') {
    console.log(JSON.stringify(await oursOnce(single, images)));
    return;
  }
  const repeats = Number(argument('repeats', '3'));
  // Checked before the ~12-minute run, not when writing after it: a path here lost a whole run.
  const out = argument('out', 'cnn-vs-pytorch');
  if (!/^[\w.-]+$/.test(out)) throw new Error(`--out is a file name under bench/results/ (letters, digits, '.', '-', '_'), found '${out}'`);
  const before = argument('before', '') || undefined;
  const modes = argument('modes', 'torch1,torch2,ddp2,ours1,ours2,oursProcesses2')
    .split(',')
    .concat(before === undefined ? [] : ['before1', 'before2']);
  const loadBefore = loadavg()[0];
  const missing = torchMissing();
  const runs = new Map<string, Run[]>(modes.map((mode) => [mode, []]));
  const skipped = new Map<string, string>();
  for (let round = 0; round < repeats; round++) {
    for (const mode of modes) {
      if (skipped.has(mode)) continue;
      if (!mode.startsWith('ours') && !mode.startsWith('before') && missing !== null) {
        skipped.set(mode, missing);
        continue;
      }
      const run = runOnce(mode, images, before);
      if ('skipped' in run) skipped.set(mode, run.skipped);
      else runs.get(mode)!.push({ ...run, load: loadavg()[0]! });
      process.stderr.write(
        `round ${round + 1} ${mode}: ${'skipped' in run ? run.skipped : `${run.imagesPerSecond.toFixed(0)} images/s, test accuracy ${run.testAccuracy}`} (load ${loadavg()[0]!.toFixed(1)})\n`,
      );
    }
  }
  const results: Record<string, unknown> = {};
  for (const mode of modes) results[mode] = skipped.has(mode) ? { skipped: skipped.get(mode) } : summarise(runs.get(mode)!);
  const rate = (mode: string): number | undefined =>
    (results[mode] as { medianImagesPerSecond?: number } | undefined)?.medianImagesPerSecond;
  const ratio = (a: number | undefined, b: number | undefined): number | null => (a === undefined || b === undefined ? null : a / b);
  const record = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    images,
    repeats,
    training: TRAINING,
    ...(before !== undefined && { before }),
    results,
    ratios: {
      torch1OverOurs1: ratio(rate('torch1'), rate('ours1')),
      ours2Speedup: ratio(rate('ours2'), rate('ours1')),
      oursProcesses2Speedup: ratio(rate('oursProcesses2'), rate('ours1')),
      torchDdp2Speedup: ratio(rate('ddp2'), rate('torch1')),
      torchThreads2Speedup: ratio(rate('torch2'), rate('torch1')),
      ours1OverBefore1: ratio(rate('ours1'), rate('before1')),
      ours2OverBefore2: ratio(rate('ours2'), rate('before2')),
      ours1PlainOverBefore1: ratio(rate('ours1Plain'), rate('before1')),
      ours2OverTorch2: ratio(rate('ours2'), rate('torch2')),
    },
    // The same ratios round by round (the modes of one round ran minutes apart, under one load):
    // median and min–max, a check that the ratio of medians is not one lucky round.
    roundRatios: {
      torch1OverOurs1: roundRatios(runs, 'torch1', 'ours1'),
      ours2OverTorch2: roundRatios(runs, 'ours2', 'torch2'),
      oursProcesses2Speedup: roundRatios(runs, 'oursProcesses2', 'ours1'),
      torchDdp2Speedup: roundRatios(runs, 'ddp2', 'torch1'),
    },
    // Issues #19 and #18's targets, judged on the ratios of medians above.
    targets: {
      torch1OverOurs1AtMost1_3: check(ratio(rate('torch1'), rate('ours1')), (r) => r <= 1.3),
      ours2AtLeastTorch2: check(ratio(rate('ours2'), rate('torch2')), (r) => r >= 1),
      oursProcesses2SpeedupAtLeastDdp2: check(
        ratio(ratio(rate('oursProcesses2'), rate('ours1')) ?? undefined, ratio(rate('ddp2'), rate('torch1')) ?? undefined),
        (r) => r >= 1,
      ),
    },
    loadAverage: [loadBefore, loadavg()[0]],
  };
  console.log(JSON.stringify({ ratios: record.ratios, targets: record.targets }));
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  const target = new URL(`../../bench/results/${out}.json`, import.meta.url);
  writeFileSync(target, JSON.stringify(record, null, 2) + '\n');
}

await main();
