// The real `shardlearn` binary in a child process, for the CLI tests.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');

/**
 * A small seeded logistic-regression SGD fit, the training the multi-rank CLI tests (etcd, Slurm)
 * run under each launcher and compare bitwise with a local `processes` run.
 */
export const SGD_TRAIN: readonly string[] = [
  'train',
  'logistic-regression',
  '--solver',
  'sgd',
  '--batch-size',
  '32',
  '--data',
  'synthetic:classification?rows=2000&cols=10&seed=3',
  '--seed',
  '4',
  '--quiet',
];

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function run(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Result {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: options.env ?? process.env,
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Start the binary and call `started(pid)` at once (before it has loaded), then wait for it to exit. */
export function runWatching(
  args: string[],
  started: (pid: number) => void,
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<Result> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shardlearn ${args.join(' ')} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolvePromise({ status, stdout, stderr });
    });
    started(child.pid!);
  });
}

export function withDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-cli-'));
  let result: T;
  try {
    result = body(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  if (result instanceof Promise) return result.finally(() => rmSync(dir, { recursive: true, force: true })) as T;
  rmSync(dir, { recursive: true, force: true });
  return result;
}
