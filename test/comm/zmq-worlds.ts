/**
 * A ZeroMQ test world: one real child process per rank (zmq-case-worker.js), talking over loopback
 * TCP with CURVE. Rank 0 binds an ephemeral port and reports it; the others then join through it.
 * Results cross back over IPC with the structured-clone ('advanced') serialization, so typed arrays
 * keep their type.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createLocalDir } from '../../src/comm/zmq/local.js';
import type { CaseName } from './communicator-cases.js';
import type { CommWorld } from './communicator-suite.js';

const WORKER = new URL('./zmq-case-worker.js', import.meta.url);

export interface ZmqWorldOptions {
  algorithm?: 'direct' | 'ring';
  segmentBytes?: number;
  maxMessageBytes?: number;
  handshakeTimeoutMs?: number;
  /** The local path (src/comm/zmq/local.ts): ipc:// sockets in a fresh 0700 folder, removed on close. */
  local?: boolean;
  /** On the local path: the folder to create the job's folder in (default the temp folder). */
  localParent?: string;
  /** On the local path: the lane's segment files (src/comm/zmq/lane-files.ts; the folder must be on tmpfs). */
  laneFiles?: boolean;
  /** On the local path: the smallest lane payload sent through a segment file (src/comm/zmq/lane-files.ts). */
  laneFileMinBytes?: number;
  /** On the local path: small all-reduces through the lane's board (src/comm/zmq/lane-board.ts; default on, on tmpfs). */
  laneBoard?: boolean;
  /** Keep the ranks' stderr (their logged refusals and drops) instead of passing it through. */
  captureLogs?: boolean;
}

/** A test world plus what an attacker test needs: rank 0's port, the job's secret and id, the ranks' logs. */
export interface ZmqCommWorld extends CommWorld {
  port: number;
  secret: string;
  jobId: string;
  /** On the local path: the job's folder (its sockets are rank-<r>.sock). */
  ipcDir: string | undefined;
  logs(): string;
}

function nextMessage<T>(child: ChildProcess, accept: (message: { type: string }) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: { type: string; error?: string }): void => {
      if (message.type === 'failed') finish(new Error(`${what}: ${message.error}`));
      else if (accept(message)) finish(null, message as T);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`${what}: the process exited (code ${code}, signal ${signal})`));
    function finish(error: Error | null, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error !== null) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

export function zmqWorld(worldOptions: ZmqWorldOptions = {}): (size: number, options: { timeoutMs?: number }) => Promise<ZmqCommWorld> {
  return async (size, { timeoutMs = 10_000 }) => {
    const { captureLogs = false, local: useLocal = false, localParent, ...joinOptions } = worldOptions;
    const local = useLocal ? await createLocalDir(localParent) : null;
    let logText = '';
    const children = Array.from({ length: size }, () => {
      const child = fork(WORKER, [], {
        serialization: 'advanced',
        env: { ...process.env, SHARDLEARN_CASE_WORKER: '1' },
        stdio: ['ignore', 'inherit', captureLogs ? 'pipe' : 'inherit', 'ipc'],
      });
      child.stderr?.on('data', (chunk: Buffer) => (logText += chunk.toString('utf8')));
      return child;
    });
    const secret = randomBytes(32).toString('hex');
    const jobId = `test-${randomBytes(4).toString('hex')}`;
    const join = (rank: number, masterPort: number): void => {
      children[rank]!.send({
        type: 'join',
        rank,
        size,
        masterPort,
        secret,
        jobId,
        timeoutMs,
        ...joinOptions,
        ...(local === null ? {} : { ipcDir: local.dir }),
      });
    };
    let port = 0;
    try {
      const listening = nextMessage<{ port: number }>(children[0]!, (m) => m.type === 'listening', 'rank 0 listening');
      join(0, 0);
      ({ port } = await listening);
      const ready = children.map((child, rank) => nextMessage(child, (m) => m.type === 'ready', `rank ${rank} joining`));
      for (let rank = 1; rank < size; rank++) join(rank, port);
      await Promise.all(ready);
    } catch (error) {
      for (const child of children) child.kill('SIGKILL');
      await local?.remove();
      throw error;
    }
    let nextId = 0;
    const ask = (child: ChildProcess, rank: number, name: CaseName, args: unknown): Promise<unknown> => {
      const id = nextId++;
      child.send({ type: 'case', id, name, args });
      return nextMessage<{ id: number; result?: unknown; error?: string }>(
        child,
        (m) => m.type === 'result' && (m as { id?: number }).id === id,
        `rank ${rank} case ${name}`,
        60_000,
      ).then((reply) => {
        if (reply.error !== undefined) throw new Error(`rank ${rank}: ${reply.error}`);
        return reply.result;
      });
    };
    const world: ZmqCommWorld = {
      size,
      port,
      secret,
      jobId,
      ipcDir: local?.dir,
      logs: () => logText,
      run: (name, args) => Promise.all(children.map((child, rank) => ask(child, rank, name, args))),
      close: async () => {
        await Promise.all(
          children.map(
            (child) =>
              new Promise<void>((resolve) => {
                if (child.exitCode !== null || child.signalCode !== null) return resolve();
                const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
                child.once('exit', () => {
                  clearTimeout(timer);
                  resolve();
                });
                child.send({ type: 'exit' });
              }),
          ),
        );
        await local?.remove();
      },
    };
    return world;
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The first log line of `world`'s ranks matching `pattern`, waiting up to `withinMs`; fails naming the logs. */
export async function logged(world: ZmqCommWorld, pattern: RegExp, withinMs = 5000): Promise<string> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(world.logs());
    if (match !== null) return match[0];
    await sleep(50);
  }
  assert.fail(`no log line matching ${pattern} within ${withinMs} ms; logs:\n${world.logs()}`);
}

/** An all-reduce after an attack still sums every rank (the misuse case). */
export async function stillWorks(world: ZmqCommWorld): Promise<void> {
  const perRank = (await world.run('misuse')) as { afterwards: number }[];
  for (const { afterwards } of perRank) assert.equal(afterwards, world.size, 'an all-reduce after the attack still sums every rank');
}
