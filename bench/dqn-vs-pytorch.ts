/**
 * DQN on CartPole against a PyTorch DQN with CleanRL's settings, on this machine, in one run (issue 14):
 *   node dist/bench/dqn-vs-pytorch.js [--seeds 0,1,2] [--steps 300000] [--ours-steps 100000] [--sides ours,pytorch]
 *       [--timeout 600] [--out dqn-vs-pytorch]
 *   # writes bench/results/<out>.json; `npm run bench:dqn` builds first
 *
 * Ours: shardlearn's DQN with its defaults (sequential, 100,000 env steps; `--ours-steps` sets another
 * budget, capped by `--steps`, and ε's decay and the learning rate's annealing stretch with it),
 * which trains its whole budget; the wall time to the target is read from its progress events (one
 * every 1,000 env steps: the first at or after stepsToTarget). PyTorch: scripts/bench/cleanrl_dqn.py
 * (CleanRL's dqn.py settings, total_timesteps = `--steps`, so ε decays over half of it; Debian's
 * python3-torch at /usr/bin/python3, one thread), which stops once the target is reached. Both
 * then score 100 greedy episodes (evalReturn). stepsToTarget is, on both sides, the env step at which
 * the mean return of the last 100 training episodes first reached 475; times exclude process start-up
 * and imports, and include the training's own first-call costs (JIT, WASM tiers).
 *
 * Every run is a fresh process with a `--timeout` (seconds), and the seeds are interleaved — seed s
 * runs ours then PyTorch — so a change in the machine's load lands on both sides alike. The record
 * keeps every run, the medians and the load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createModel } from '../src/index.js';
import type { DQN } from '../src/models/rl/dqn.js';

const PYTHON = process.env['SHARDLEARN_PYTHON'] ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../scripts/bench/cleanrl_dqn.py', import.meta.url));
const TARGET = 475;
const OUR_DEFAULT_STEPS = 100_000;

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : (process.argv[index + 1] ?? fallback);
}

interface Run {
  seed: number;
  stepsToTarget: number | null;
  secondsToTarget: number | null;
  totalSeconds: number;
  envSteps: number;
  evalReturn: number;
}

/** One fit of ours in this process, with its defaults (the budget capped at `steps`). */
async function oursOnce(seed: number, steps: number): Promise<Run> {
  const events: { envSteps: number; elapsedMs: number }[] = [];
  const params = { env: 'cartpole', seed, ...(steps !== OUR_DEFAULT_STEPS && { steps }) };
  const started = performance.now();
  const agent = createModel('dqn', params) as DQN;
  await agent.fit({
    onProgress: (event) => {
      if (event.envSteps !== undefined) events.push({ envSteps: event.envSteps, elapsedMs: event.elapsedMs });
    },
  });
  const totalSeconds = (performance.now() - started) / 1000;
  const metrics = agent.metrics();
  const stepsToTarget = metrics['stepsToTarget'] ?? null;
  const reached = stepsToTarget === null ? undefined : events.find((e) => e.envSteps >= stepsToTarget);
  return {
    seed,
    stepsToTarget,
    secondsToTarget: reached === undefined ? null : Number((reached.elapsedMs / 1000).toFixed(2)),
    totalSeconds: Number(totalSeconds.toFixed(2)),
    envSteps: metrics['envSteps']!,
    evalReturn: metrics['evalReturn']!,
  };
}

/** One run in a child process: ours via this script, PyTorch via Python; a failure or timeout is a reason. */
function runOnce(
  side: 'ours' | 'pytorch',
  seed: number,
  steps: number,
  oursSteps: number,
  timeoutSeconds: number,
): Run | { failed: string } {
  const command =
    side === 'pytorch'
      ? [PYTHON, SCRIPT, '--seed', String(seed), '--total-timesteps', String(steps), '--target', String(TARGET)]
      : [process.execPath, fileURLToPath(import.meta.url), '--single', String(seed), '--steps', String(Math.min(steps, oursSteps))];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', maxBuffer: 1 << 24, timeout: timeoutSeconds * 1000 });
  if (result.status !== 0)
    return {
      failed: `${command.join(' ')} failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}): ${result.stderr.trim().split('\n').slice(-2).join(' ')}`,
    };
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Run;
}

/** The median of the values, null when there are none; a run that missed the target counts as +∞. */
function median(values: (number | null)[]): number | null {
  if (values.length === 0) return null;
  const sorted = values.map((v) => v ?? Infinity).sort((a, b) => a - b);
  const middle = sorted.length % 2 === 1 ? sorted[sorted.length >> 1]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return Number.isFinite(middle) ? middle : null;
}

function summarise(runs: Run[]): Record<string, number | null> {
  return {
    reached: runs.filter((r) => r.stepsToTarget !== null).length,
    medianStepsToTarget: median(runs.map((r) => r.stepsToTarget)),
    medianSecondsToTarget: median(runs.map((r) => r.secondsToTarget)),
    medianTotalSeconds: median(runs.map((r) => r.totalSeconds)),
    medianEvalReturn: median(runs.map((r) => r.evalReturn)),
  };
}

async function main(): Promise<void> {
  const steps = Number(argument('steps', '300000'));
  const single = argument('single', '');
  if (single !== '') {
    console.log(JSON.stringify(await oursOnce(Number(single), steps)));
    process.exit(0);
  }
  const seeds = argument('seeds', '0,1,2').split(',').map(Number);
  const timeoutSeconds = Number(argument('timeout', '600'));
  const oursSteps = Number(argument('ours-steps', String(OUR_DEFAULT_STEPS)));
  const sides = argument('sides', 'ours,pytorch').split(',') as ('ours' | 'pytorch')[];
  for (const side of sides)
    if (side !== 'ours' && side !== 'pytorch') throw new Error(`--sides lists ours and/or pytorch, found '${side}'`);
  const out = argument('out', 'dqn-vs-pytorch');
  if (!/^[\w.-]+$/.test(out)) throw new Error(`--out is a file name under bench/results/ (letters, digits, '.', '-', '_'), found '${out}'`);
  const loadBefore = loadavg();
  const runs: Record<'ours' | 'pytorch', Run[]> = { ours: [], pytorch: [] };
  const failures: { side: string; seed: number; reason: string }[] = [];
  for (const seed of seeds) {
    for (const side of sides) {
      const run = runOnce(side, seed, steps, oursSteps, timeoutSeconds);
      if ('failed' in run) failures.push({ side, seed, reason: run.failed });
      else runs[side].push(run);
      process.stderr.write(
        `seed ${seed} ${side}: ${'failed' in run ? run.failed : `stepsToTarget ${run.stepsToTarget}, ${run.secondsToTarget} s to target, ${run.totalSeconds} s in all, evalReturn ${run.evalReturn}`} (load ${loadavg()[0]!.toFixed(2)})\n`,
      );
    }
  }
  const record = {
    when: new Date().toISOString(),
    machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version },
    target: TARGET,
    steps,
    seeds,
    ours: {
      settings: `DQN defaults, sequential, ${Math.min(steps, oursSteps)} env steps`,
      runs: runs.ours,
      ...summarise(runs.ours),
    },
    pytorch: {
      settings: `scripts/bench/cleanrl_dqn.py, CleanRL dqn.py settings, total_timesteps ${steps}`,
      runs: runs.pytorch,
      ...summarise(runs.pytorch),
    },
    failures,
    loadAverage: { before: loadBefore, after: loadavg() },
  };
  const row = (label: string, r: object | undefined, key: (k: string) => string): string => {
    const get = (k: string): string => String((r as Record<string, unknown> | undefined)?.[key(k)] ?? '-');
    return `${label.padEnd(16)} ${get('stepsToTarget').padStart(14)} ${get('secondsToTarget').padStart(16)} ${get('totalSeconds').padStart(12)} ${get('evalReturn').padStart(10)}`;
  };
  const lines = [
    `${'run'.padEnd(16)} ${'stepsToTarget'.padStart(14)} ${'secondsToTarget'.padStart(16)} ${'totalSeconds'.padStart(12)} ${'evalReturn'.padStart(10)}`,
  ];
  for (const seed of seeds)
    for (const side of sides)
      lines.push(
        row(
          `${side} seed ${seed}`,
          runs[side].find((r) => r.seed === seed),
          (k) => k,
        ),
      );
  const medianKey = (k: string): string => `median${k[0]!.toUpperCase()}${k.slice(1)}`;
  for (const side of sides) lines.push(row(`${side} median`, record[side], medianKey));
  console.log(lines.join('\n'));
  mkdirSync(new URL('../../bench/results/', import.meta.url), { recursive: true });
  writeFileSync(new URL(`../../bench/results/${out}.json`, import.meta.url), JSON.stringify(record, null, 2) + '\n');
}

await main();
