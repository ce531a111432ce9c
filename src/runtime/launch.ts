/**
 * `shardlearn launch --workers N [--master-port P] [--secret-file F] -- <command args>`: start N
 * local processes of a shardlearn command as the ranks of one `cluster` job — torchrun's job for
 * shardlearn. Each gets MASTER_ADDR=127.0.0.1, MASTER_PORT, WORLD_SIZE=N, RANK=r, LOCAL_RANK=r,
 * SHARDLEARN_JOB_ID and SHARDLEARN_SECRET (from --secret-file or SHARDLEARN_SECRET, else a fresh
 * random one: the secret goes through the environment, never argv).
 *
 * Rank 0's stdout and stderr pass through; the others' are prefixed with `[rank r] `. When a rank
 * fails the others are stopped (SIGTERM, then SIGKILL after a grace period) and launch exits with
 * the failed rank's exit code (4 for a lost peer or timeout, see cli/failure.ts); SIGINT/SIGTERM to
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
import { ConfigError } from '../core/errors.js';
import { LAUNCHER_FD, LAUNCHER_FD_VARIABLE } from './launcher-link.js';
import { reapAll } from './processes.js';

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
  const children: ChildProcess[] = [];
  for (let rank = 0; rank < workers; rank++) {
    const child = spawn(process.execPath, [entry, ...command], {
      env: {
        ...process.env,
        ...options.env,
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(masterPort),
        WORLD_SIZE: String(workers),
        RANK: String(rank),
        LOCAL_RANK: String(rank),
        SHARDLEARN_JOB_ID: jobId,
        SHARDLEARN_SECRET: secret,
        [LAUNCHER_FD_VARIABLE]: String(LAUNCHER_FD),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'], // the last: the rank's tie to this launcher
    });
    child.stdio[LAUNCHER_FD]?.on('error', () => undefined);
    forward(child.stdout, stdout, rank === 0 ? '' : `[rank ${rank}] `);
    forward(child.stderr, stderr, rank === 0 ? '' : `[rank ${rank}] `);
    children.push(child);
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const child of children) child.kill(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await new Promise<number>((resolve) => {
      let remaining = workers;
      let failure: number | null = null;
      children.forEach((child, rank) => {
        child.once('exit', (code, signal) => {
          const exitCode = code ?? (signal === 'SIGINT' ? 130 : 128 + 9);
          if (exitCode !== 0 && failure === null) {
            failure = exitCode;
            stderr.write(
              `shardlearn launch: rank ${rank} (pid ${child.pid}) ${signal === null ? `exited with code ${code}` : `was killed by ${signal}`}; stopping the other ranks\n`,
            );
            void reapAll(children.filter((other) => other !== child));
          }
          if (--remaining === 0) resolve(failure ?? 0);
        });
      });
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await reapAll(children);
  }
}
