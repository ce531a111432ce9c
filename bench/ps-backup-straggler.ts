/**
 * Backup workers against a straggler: wall time of a processes×3 ps-sync fit (logistic regression by
 * SGD, 4,500 rows, 20 epochs of 142 rounds: test/strategies/fixtures/ps-backup-fit.ts) whose rank 2
 * is, from rank 0's first epoch report on,
 * - `none`: left alone (the baseline);
 * - `slowed`: duty-cycled, SIGSTOP 40 ms / SIGCONT 10 ms (a fifth of its time: a noisy neighbour);
 * - `stopped 5 s`: SIGSTOPped for 5 s, then SIGCONT;
 * - `stopped`: SIGSTOPped for good (one run each): how long until the run fails, and how many epochs
 *   rank 0 reported first;
 * under `ps-sync` and `ps-sync:backup=1`, runs alternated: the median and range of the time from rank
 * 0's first epoch report to the fit's end (start-up, seconds on a loaded machine, left out), and of
 * FitInfo.seconds.
 *
 * node dist/bench/ps-backup-straggler.js [--repeats 3]
 */
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';

const FIT = fileURLToPath(new URL('../test/strategies/fixtures/ps-backup-fit.js', import.meta.url));
const at = process.argv.indexOf('--repeats');
const repeats = at < 0 ? 3 : Number(process.argv[at + 1]);
const STRATEGIES = ['ps-sync', 'ps-sync:backup=1'];
const EPOCHS = 20;
type Scenario = 'none' | 'slowed' | 'stopped 5 s' | 'stopped';

interface Outcome {
  ok: boolean;
  /** FitInfo.seconds when the fit completed. */
  seconds: number;
  /** From rank 0's first epoch report to the child's exit. */
  afterFirst: number;
  epochs: number;
  dropped: number | undefined;
  error: string;
}

function once(strategy: string, scenario: Scenario): Promise<Outcome> {
  const child = spawn(process.execPath, [FIT, 'run', strategy, String(EPOCHS)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let rank2 = 0;
  let startedAt = 0;
  let cycling: NodeJS.Timeout | undefined;
  let stopped = false;
  const setStopped = (stop: boolean): void => {
    stopped = stop;
    try {
      process.kill(rank2, stop ? 'SIGSTOP' : 'SIGCONT');
    } catch {
      // gone
    }
  };
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const workers = /workers (\d+) (\d+) (\d+)/.exec(stdout);
    if (workers === null || rank2 !== 0) return;
    rank2 = Number(workers[3]);
    startedAt = performance.now();
    if (scenario === 'slowed') {
      const cycle = (): void => {
        setStopped(!stopped);
        cycling = setTimeout(cycle, stopped ? 40 : 10);
      };
      cycle();
    } else if (scenario === 'stopped 5 s') {
      setStopped(true);
      cycling = setTimeout(() => setStopped(false), 5000);
    } else if (scenario === 'stopped') setStopped(true);
  });
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(cycling);
      if (rank2 !== 0) setStopped(false);
      const done = /^done (.*)$/m.exec(stdout);
      const info = done === null ? undefined : (JSON.parse(done[1]!) as { seconds: number; rounds?: { dropped: number } });
      resolve({
        ok: code === 0,
        seconds: info?.seconds ?? NaN,
        afterFirst: (performance.now() - startedAt) / 1000,
        epochs: [...stdout.matchAll(/^epoch (\d+)$/gm)].length,
        dropped: info?.rounds?.dropped,
        error: code === 0 ? '' : (/^\w*Error: .*$/m.exec(stderr)?.[0] ?? stderr.split('\n').at(-2) ?? '').slice(0, 200),
      });
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[values.length >> 1]!;
console.log(
  `load average before: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
for (const scenario of ['none', 'slowed', 'stopped 5 s'] as const) {
  const times = new Map<string, number[]>(STRATEGIES.map((s) => [s, []]));
  const afters = new Map<string, number[]>(STRATEGIES.map((s) => [s, []]));
  const drops = new Map<string, number[]>(STRATEGIES.map((s) => [s, []]));
  for (let r = 0; r < repeats; r++)
    for (const strategy of STRATEGIES) {
      const outcome = await once(strategy, scenario);
      if (!outcome.ok)
        console.log(`  ${scenario} ${strategy}: failed ${outcome.afterFirst.toFixed(1)} s after the first epoch: ${outcome.error}`);
      else {
        times.get(strategy)!.push(outcome.seconds);
        afters.get(strategy)!.push(outcome.afterFirst);
        if (outcome.dropped !== undefined) drops.get(strategy)!.push(outcome.dropped);
      }
    }
  for (const strategy of STRATEGIES) {
    const t = times.get(strategy)!;
    if (t.length === 0) continue;
    const d = drops.get(strategy)!;
    const a = afters.get(strategy)!;
    console.log(
      `${scenario.padEnd(12)} ${strategy.padEnd(18)} after epoch 1 ${median(a).toFixed(2)} s (${Math.min(...a).toFixed(2)}–${Math.max(...a).toFixed(2)}), fit ${median(t).toFixed(2)} s (${Math.min(...t).toFixed(2)}–${Math.max(...t).toFixed(2)}), n=${t.length}${d.length > 0 ? `, dropped ${median(d)}` : ''}`,
    );
  }
  console.log(
    `  load average: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}
for (const strategy of STRATEGIES) {
  const outcome = await once(strategy, 'stopped');
  console.log(
    `stopped      ${strategy.padEnd(18)} ${outcome.ok ? 'completed' : 'failed'} ${outcome.afterFirst.toFixed(1)} s after the first epoch, ${outcome.epochs} of ${EPOCHS} epochs reported${outcome.ok ? '' : `: ${outcome.error}`}`,
  );
}
console.log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
