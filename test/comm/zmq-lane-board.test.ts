// The lane's board (src/comm/zmq/lane-board.ts): small all-reduces through polled files of the job's
// 0700 folder on tmpfs, reached through shared mappings and through pread/pwrite
// (zmq/board-memory.ts), each case on both. Two boards in this process reduce in rank order, bitwise
// the reference, over many collectives (both slots reused); a peer's post for another collective,
// of another length or dtype, or holding NaN is refused naming the peer; a peer file of the wrong
// mode, size, or a symbolic link is refused; a peer that never posts fails the wait with TIMEOUT
// naming it, and a lost peer fails it at once. (The conformance suite runs the board with 2 and 3
// real rank processes: zmq-local.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, renameSync, symlinkSync, truncateSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BoardMemoryKind } from '../../src/comm/zmq/board-memory.js';
import { canMapFiles } from '../../src/core/mapped-file.js';
import { CommError } from '../../src/core/errors.js';
import type { LaneBoardOptions } from '../../src/comm/zmq/lane-board.js';
import { BOARD_MAX_BYTES, LaneBoard, boardPath } from '../../src/comm/zmq/lane-board.js';
import { onTmpfs } from '../../src/comm/zmq/lane-files.js';
import type { LocalDir } from '../../src/comm/zmq/local.js';
import { createLocalDir } from '../../src/comm/zmq/local.js';
import { TRUSTED } from '../../src/comm/collectives/reduce.js';
import type { ReduceOp } from '../../src/comm/communicator.js';
import { Rng } from '../../src/core/rng.js';
import type { FloatArray } from '../../src/core/storage.js';

const SHM = '/dev/shm';
const KINDS: BoardMemoryKind[] = ['mapped', 'files'];
const NAME = 12345;
const CHECK = { allowInfinity: false };

async function tmpfsDir(t: { skip(message: string): void }): Promise<LocalDir | null> {
  if (onTmpfs(SHM)) return createLocalDir(SHM);
  t.skip(`no tmpfs at ${SHM}: the lane keeps to its sockets there`);
  return null;
}

function boards(dir: string, size = 2, extra: Partial<LaneBoardOptions> = {}): LaneBoard[] {
  return Array.from({ length: size }, (_, rank) =>
    LaneBoard.create({
      dir,
      id: 'test',
      generation: 0,
      rank,
      size,
      timeoutMs: 2000,
      warnMs: 0,
      log: () => undefined,
      hostOf: () => 'this host',
      problem: () => null,
      ...extra,
    })!,
  );
}

const refused = (from: number, value: number, index: number): Error =>
  new CommError('COMM', `rank ${from} sent ${value} at element ${index}`, { rank: from });

/** Every board's all-reduce of its own buffer, concurrently (one thread: the waits yield to each other). */
function allReduce(all: LaneBoard[], buffers: FloatArray[], op: ReduceOp, seq: number): Promise<PromiseSettledResult<void>[]> {
  return Promise.allSettled(all.map((board, rank) => board.allReduce(buffers[rank]!, op, { seq, name: NAME }, CHECK, refused)));
}

/** Why this machine cannot build the addon (scripts/build-native.js needs `cc` and Node's node_api.h), or null. */
function cannotBuildAddon(): string | null {
  if (process.platform !== 'linux') return 'files are mapped on Linux only';
  if (spawnSync(process.env['CC'] ?? 'cc', ['--version']).status !== 0) return 'no C compiler (cc): the build skipped the addon';
  const headers = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'];
  if (!headers.some((dir) => existsSync(join(dir, 'node_api.h')))) return 'no node_api.h: the build skipped the addon';
  return null;
}

test('where the build can compile the addon the board maps its files (dist/native/map-file.node); files are the fallback', async (t) => {
  const cannot = cannotBuildAddon();
  if (cannot !== null) return t.skip(cannot);
  const local = await tmpfsDir(t);
  if (local === null) return;
  try {
    assert.ok(canMapFiles(), 'dist/native/map-file.node does not load: scripts/build-native.js said why');
    for (const kind of KINDS) {
      const all = boards(local.dir, 2, { memory: kind });
      assert.deepEqual(
        all.map((board) => board.memoryKind),
        [kind, kind],
      );
      for (const board of all) board.close();
    }
    const [defaulted] = boards(local.dir, 2);
    assert.equal(defaulted!.memoryKind, 'mapped');
  } finally {
    await local.remove();
  }
});

for (const kind of KINDS)
  test(`${kind}: boards all-reduce in rank order, bitwise the reference, through both slots, float32 and float64, sum, max and min`, async (t) => {
    if (kind === 'mapped' && !canMapFiles()) return t.skip('this build cannot map files: the first test says why');
    const local = await tmpfsDir(t);
    if (local === null) return;
    try {
      for (const size of [2, 3]) {
        const all = boards(local.dir, size, { memory: kind });
        const rng = new Rng(size);
        let seq = 0;
        for (const Type of [Float64Array, Float32Array]) {
          for (const op of ['sum', 'max', 'min'] as ReduceOp[]) {
            for (const length of [1, 7, 1000, BOARD_MAX_BYTES / Type.BYTES_PER_ELEMENT]) {
              const buffers: FloatArray[] = Array.from({ length: size }, () => {
                const buffer = new Type(length);
                for (let i = 0; i < length; i++) buffer[i] = rng.normal() * 1e3;
                return buffer;
              });
              const expected = Type.from(buffers[0]!);
              for (let r = 1; r < size; r++) {
                for (let i = 0; i < length; i++) {
                  const a = expected[i]!;
                  const b = buffers[r]![i]!;
                  expected[i] = op === 'sum' ? a + b : op === 'max' ? Math.max(a, b) : Math.min(a, b);
                }
              }
              const results = await allReduce(all, buffers, op, seq++);
              for (const result of results) assert.equal(result.status, 'fulfilled', String((result as PromiseRejectedResult).reason));
              for (const buffer of buffers) assert.deepEqual(buffer, expected, `${size} ranks ${Type.name} ${op} ${length}`);
            }
          }
        }
        assert.ok(all[0]!.fits(new Float64Array(BOARD_MAX_BYTES / 8)) && !all[0]!.fits(new Float64Array(BOARD_MAX_BYTES / 8 + 1)));
        for (const board of all) board.close();
      }
    } finally {
      await local.remove();
    }
  });

for (const kind of KINDS)
  test(`${kind}: a post for another collective, of another length or dtype, or holding NaN is refused naming the peer`, async (t) => {
    if (kind === 'mapped' && !canMapFiles()) return t.skip('this build cannot map files: the first test says why');
    const local = await tmpfsDir(t);
    if (local === null) return;
    try {
      /** Two fresh boards, each all-reducing its own buffer as collective `seq`; settled, then closed. */
      const pair = async (first: [FloatArray, number], second: [FloatArray, number]): Promise<PromiseSettledResult<void>[]> => {
        const two = boards(local.dir, 2, { memory: kind });
        const results = await Promise.allSettled(
          [first, second].map(([buffer, seq], rank) => two[rank]!.allReduce(buffer, 'sum', { seq, name: NAME }, CHECK, refused)),
        );
        for (const board of two) board.close();
        return results;
      };
      const rejection = (results: PromiseSettledResult<void>[], rank: number): string => {
        assert.equal(results[rank]!.status, 'rejected');
        const reason = (results[rank] as PromiseRejectedResult).reason as CommError;
        assert.ok(reason instanceof CommError);
        assert.equal(reason.rank, 1 - rank);
        return reason.message;
      };
      let results = await pair([new Float64Array(3), 0], [new Float64Array(3), 1]);
      assert.match(rejection(results, 0), /rank 1 is in another collective \(#1\) while this rank is in allReduce \(collective #0\)/);
      assert.match(rejection(results, 1), /rank 0 is in another collective \(#0\)/);

      results = await pair([new Float64Array(3), 0], [new Float64Array(4), 0]);
      assert.match(rejection(results, 0), /rank 1 posted 4 values of dtype 2 where 3 of dtype 2 were expected/);

      results = await pair([new Float64Array(2), 0], [new Float32Array(4), 0]);
      assert.match(rejection(results, 0), /rank 1 posted 4 values of dtype 1 where 2 of dtype 2 were expected/);

      results = await pair([Float64Array.of(1, 2, 3), 0], [Float64Array.of(1, NaN, 3), 0]);
      assert.match(rejection(results, 0), /rank 1 sent NaN at element 1/);
      // This rank's own values are not checked: rank 1 was refused nothing.
      assert.equal(results[1]!.status, 'fulfilled');
    } finally {
      await local.remove();
    }
  });

for (const kind of KINDS)
  test(`${kind}: a peer board file of the wrong mode or size, or a symbolic link, is refused naming the peer`, async (t) => {
    if (kind === 'mapped' && !canMapFiles()) return t.skip('this build cannot map files: the first test says why');
    const local = await tmpfsDir(t);
    if (local === null) return;
    try {
      const all = boards(local.dir, 2, { memory: kind });
      chmodSync(boardPath({ dir: local.dir, id: 'test', generation: 0 }, 1), 0o644);
      await assert.rejects(all[0]!.allReduce(new Float64Array(2), 'sum', { seq: 0, name: NAME }, CHECK, refused), (error: Error) => {
        assert.ok(error instanceof CommError && error.rank === 1);
        assert.match(error.message, /rank 1's lane board cannot be used: its board file has mode 644, expected 600/);
        return true;
      });
      for (const board of all) board.close();

      if (kind === 'mapped') {
        // A mapping past a file's end would fault at the first poll: a file of another size is refused first.
        const short = boards(local.dir, 2, { memory: kind });
        truncateSync(boardPath({ dir: local.dir, id: 'test', generation: 0 }, 1), 4096);
        await assert.rejects(
          short[0]!.allReduce(new Float64Array(2), 'sum', { seq: 0, name: NAME }, CHECK, refused),
          /rank 1's lane board cannot be used: its board file holds 4096 bytes, not \d+/,
        );
        for (const board of short) board.close();
      }

      const linked = boards(local.dir, 2, { memory: kind });
      const path = boardPath({ dir: local.dir, id: 'test', generation: 0 }, 1);
      renameSync(path, `${path}.real`);
      symlinkSync(`${path}.real`, path);
      await assert.rejects(
        linked[0]!.allReduce(new Float64Array(2), 'sum', { seq: 0, name: NAME }, CHECK, refused),
        /rank 1's lane board cannot be used: its board file cannot be opened \(ELOOP\)/,
      );
      for (const board of linked) board.close();
      assert.ok(readdirSync(local.dir).every((name) => name.startsWith('board-test-g0-')));
    } finally {
      await local.remove();
    }
  });

for (const kind of KINDS)
  test(`${kind}: a peer that never posts fails the wait with TIMEOUT naming it; a lost peer fails it at once`, async (t) => {
    if (kind === 'mapped' && !canMapFiles()) return t.skip('this build cannot map files: the first test says why');
    const local = await tmpfsDir(t);
    if (local === null) return;
    try {
      const [silent] = boards(local.dir, 2, { timeoutMs: 300, memory: kind });
      const started = performance.now();
      await assert.rejects(silent!.allReduce(new Float64Array(2), 'sum', { seq: 0, name: NAME }, TRUSTED, refused), (error: Error) => {
        assert.ok(error instanceof CommError && error.code === 'TIMEOUT' && error.rank === 1);
        assert.match(error.message, /allReduce \(collective #0\): rank 1 \(this host\) posted nothing within 300 ms/);
        return true;
      });
      // The timeout is not cut short (an upper bound would be a timed assertion: the machine's load sets it).
      assert.ok(performance.now() - started >= 300);

      const lost = new CommError('PEER_LOST', 'rank 1 can no longer send to this rank: it left', { rank: 1 });
      let gone = false;
      const [waiting] = boards(local.dir, 2, { timeoutMs: 10_000, problem: () => (gone ? lost : null), memory: kind });
      const pending = waiting!.allReduce(new Float64Array(2), 'sum', { seq: 0, name: NAME }, TRUSTED, refused);
      setTimeout(() => (gone = true), 50);
      // The loss's own error, not the TIMEOUT 10 s would have given: the loss ended the wait.
      await assert.rejects(pending, (error: Error) => error === lost);
    } finally {
      await local.remove();
    }
  });
