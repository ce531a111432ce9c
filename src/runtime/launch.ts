/**
 * `shardlearn launch --workers N [--master-port P] [--secret-file F] -- <command args>`: start N
 * local processes of a shardlearn command as the ranks of one `cluster` job — torchrun's job for
 * shardlearn. Each gets MASTER_ADDR=127.0.0.1, MASTER_PORT, WORLD_SIZE=N, RANK=r, LOCAL_RANK=r,
 * SHARDLEARN_JOB_ID and SHARDLEARN_SECRET (from --secret-file or SHARDLEARN_SECRET, else a fresh
 * random one: the secret goes through the environment, never argv).
 *
 * Rank 0's stdout and stderr pass through; the others' are prefixed with `[rank r] `. When a rank
 * fails and the command's restart policy cannot go on without it (no `--min-workers`/`--max-restarts`
 * in the command, fewer than `--min-workers` ranks left, or `--max-restarts` exhausted), the others
 * are stopped (SIGTERM, then SIGKILL after a grace period) and launch exits with the failed rank's
 * exit code (4 for a lost peer or timeout, see cli/failure.ts; 128 + the signal's number for a
 * signal), naming that rank, its signal or code, and how long stopping the others took. When the
 * policy can go on, the survivors re-form on their own (runtime/elastic.ts) and launch lets them
 * finish: it exits 0 when they do. Within the command's --max-restarts and below its --max-workers,
 * launch also starts a replacement for each lost rank (SHARDLEARN_JOIN=1, output prefixed
 * `[join k] `): it announces itself to rank 0 on SHARDLEARN_JOIN_PORT (a free port launch picks) and
 * joins at the next epoch boundary (runtime/static-join.ts); one still waiting when the run ends is
 * stopped and its exit ignored. SIGINT/SIGTERM to
 * launch are forwarded. Every child is reaped before it returns. Each rank also holds a pipe from
 * launch that launch never writes to (SHARDLEARN_LAUNCHER_FD, see launcher-link.ts): when launch dies,
 * even by SIGKILL, the ranks read end-of-file and stop.
 *
 * @example
 * shardlearn launch --workers 4 -- train logistic-regression --data big.csv --target y --paradigm cluster
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { generateSecret, readSecret } from '../comm/zmq/security.js';
import { constants } from 'node:os';
import { ConfigError } from '../core/errors.js';
import type { ElasticPolicy } from './elastic.js';
import { resolveElastic } from './elastic.js';
import { LAUNCHER_FD, LAUNCHER_FD_VARIABLE } from './launcher-link.js';
import { reapAll } from './reap.js';
import { JOIN_PORT_VARIABLE, JOIN_VARIABLE } from './static-join.js';

export interface LaunchOptions {
  workers: number;
  /** The command's arguments (what follows `--`), e.g. ['train', 'kmeans', '--data', …]. */
  command: readonly string[];
  /** Rank 0's port; default a free one. */
  masterPort?: number;
  secretFile?: string;
  /** The script each rank runs with `command` as its arguments. Default: this process's script (the shardlearn CLI). */
  entry?: string;
  /** Extra environment for every rank. */
  env?: NodeJS.ProcessEnv;
  stdout?: Writable;
  stderr?: Writable;
}

/** A port free on 127.0.0.1 right now (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function forward(stream: Readable | null, to: Writable, prefix: string): void {
  if (stream === null) return;
  if (prefix === '') {
    stream.pipe(to, { end: false });
    return;
  }
  createInterface({ input: stream }).on('line', (line) => to.write(`${prefix}${line}\n`));
}

/**
 * The restart policy the ranks will resolve from their command's `--min-workers`, `--max-workers`
 * and `--max-restarts` (as `--flag N` or `--flag=N`), for a world of `workers`; undefined when the
 * command sets none, or sets one the ranks will refuse (they report that themselves).
 */
export function commandPolicy(command: readonly string[], workers: number): ElasticPolicy | undefined {
  const flag = (name: string): number | undefined => {
    for (let i = command.length - 1; i >= 0; i--) {
      const arg = command[i]!;
      if (arg === `--${name}`) return Number(command[i + 1]);
      if (arg.startsWith(`--${name}=`)) return Number(arg.slice(name.length + 3));
    }
    return undefined;
  };
  const [minWorkers, maxWorkers, maxRestarts] = [flag('min-workers'), flag('max-workers'), flag('max-restarts')];
  try {
    return resolveElastic(
      {
        ...(minWorkers === undefined ? {} : { minWorkers }),
        ...(maxWorkers === undefined ? {} : { maxWorkers }),
        ...(maxRestarts === undefined ? {} : { maxRestarts }),
      },
      workers,
      'cluster',
    );
  } catch {
    return undefined;
  }
}

/** How a child ended, in words, and the exit code a shell gives it (128 + the signal's number for a signal). */
function ending(code: number | null, signal: NodeJS.Signals | null): { how: string; exitCode: number } {
  if (signal === null) return { how: `exited with code ${code}`, exitCode: code ?? 1 };
  return { how: `was killed by ${signal}`, exitCode: 128 + (constants.signals[signal] ?? 9) };
}

/** Run the job; resolves with the exit code launch should exit with. */
export async function launchLocal(options: LaunchOptions): Promise<number> {
  const { workers, command } = options;
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigError(`--workers expects a whole number ≥ 1, got ${workers}`, { field: 'workers' });
  if (command.length === 0)
    throw new ConfigError(
      'launch needs the command to run after `--`, e.g. shardlearn launch --workers 2 -- train kmeans --data x.csv --paradigm cluster',
      { field: 'command' },
    );
  const entry = options.entry ?? process.argv[1];
  if (entry === undefined) throw new ConfigError('launch cannot tell which script to start; pass `entry`', { field: 'entry' });
  let secret: string;
  try {
    secret = readSecret(options.secretFile === undefined ? {} : { secretFile: options.secretFile }).toString('utf8');
  } catch (error) {
    if (options.secretFile !== undefined) throw error;
    secret = generateSecret(); // none configured: a fresh one for this job
  }
  const masterPort = options.masterPort ?? (await freePort());
  const jobId = `launch-${randomBytes(8).toString('hex')}`;
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  // The original rank 0 accepts newcomers here (runtime/static-join.ts): clear of MASTER_PORT + generation.
  let joinPort = await freePort();
  while (joinPort >= masterPort && joinPort <= masterPort + 64) joinPort = await freePort();
  const children: ChildProcess[] = [];
  const policy = commandPolicy(command, workers);
  /** Start rank `rank`, or with `replacement` a newcomer (SHARDLEARN_JOIN=1) that joins at an epoch boundary. */
  const start = (rank: number, replacement?: number): ChildProcess => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...options.env,
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(masterPort),
      WORLD_SIZE: String(workers),
      RANK: String(rank),
      LOCAL_RANK: String(rank),
      SHARDLEARN_JOB_ID: jobId,
      SHARDLEARN_SECRET: secret,
      [JOIN_PORT_VARIABLE]: String(joinPort),
      [LAUNCHER_FD_VARIABLE]: String(LAUNCHER_FD),
    };
    if (replacement !== undefined) {
      delete env['RANK'];
      env[JOIN_VARIABLE] = '1';
    }
    const child = spawn(process.execPath, [entry, ...command], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'], // the last: the rank's tie to this launcher
    });
    child.stdio[LAUNCHER_FD]?.on('error', () => undefined);
    const prefix = replacement !== undefined ? `[join ${replacement}] ` : rank === 0 ? '' : `[rank ${rank}] `;
    forward(child.stdout, stdout, prefix);
    forward(child.stderr, stderr, prefix);
    children.push(child);
    return child;
  };
  for (let rank = 0; rank < workers; rank++) start(rank);
  let interrupted = false; // launch itself was stopped: the ranks' deaths are no fault to survive
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupted = true;
    for (const child of children) child.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await new Promise<number>((resolve) => {
      const running = new Set(children);
      const replacements = new Set<ChildProcess>();
      let finished = false; // a rank completed: the run is over, replacements still waiting are stopped
      let failure: number | null = null;
      let lost = 0;
      const ended: string[] = []; // the ranks that failed, in order: the first is the likely cause
      let stopped: Promise<void> = Promise.resolve(); // the report of the stop is written before launch returns
      const watch = (child: ChildProcess, name: string): void => {
        child.once('exit', (code, signal) => {
          running.delete(child);
          const { how, exitCode } = ending(code, signal);
          if (exitCode === 0 && !finished) {
            finished = true;
            // A replacement still waiting for its admission has nothing left to join.
            for (const waiting of replacements) if (running.has(waiting)) waiting.kill('SIGTERM');
          }
          const ignored = finished && replacements.has(child);
          if (exitCode !== 0 && failure === null && !ignored) {
            ended.push(`${name} ${how}`);
            const left = running.size;
            // The survivors re-form on their own while the policy holds (runtime/elastic.ts): let them.
            if (policy !== undefined && !interrupted && left >= policy.minWorkers && ++lost <= policy.maxRestarts) {
              // A replacement joins at the next epoch boundary (runtime/static-join.ts), within --max-restarts and --max-workers.
              const replace = !finished && replacements.size < policy.maxRestarts && left < policy.maxWorkers;
              stderr.write(
                `shardlearn launch: ${name} (pid ${child.pid}) ${how}; ${left} ranks go on (--min-workers ${policy.minWorkers}, re-form ${lost} of at most ${policy.maxRestarts})${replace ? `; replacement ${replacements.size + 1} starts and joins at an epoch boundary` : ''}\n`,
              );
              if (replace) {
                const next = start(workers + replacements.size, replacements.size + 1);
                replacements.add(next);
                running.add(next);
                watch(next, `replacement ${replacements.size}`);
              }
            } else {
              failure = exitCode;
              const why =
                policy === undefined
                  ? 'no restart policy: the command sets no --min-workers'
                  : left < policy.minWorkers
                    ? `${left} of ${workers} ranks left, below --min-workers ${policy.minWorkers}`
                    : `--max-restarts ${policy.maxRestarts} exhausted`;
              stderr.write(`shardlearn launch: ${name} (pid ${child.pid}) ${how}; stopping the other ranks (${why})\n`);
              const others = [...running];
              const stopping = performance.now();
              stopped = reapAll(others).then(() => {
                if (others.length > 0)
                  stderr.write(
                    `shardlearn launch: stopped ${others.length} other rank${others.length === 1 ? '' : 's'} in ${(performance.now() - stopping).toFixed(0)} ms; exit code ${exitCode} (${ended.join(', then ')})\n`,
                  );
              });
            }
          }
          if (running.size === 0) void stopped.then(() => resolve(failure ?? 0));
        });
      };
      children.forEach((child, rank) => watch(child, `rank ${rank}`));
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await reapAll(children);
  }
}
