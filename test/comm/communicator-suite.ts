/**
 * The communicator conformance suite: one body run against every transport (local, shared memory,
 * and later ZeroMQ), TF.js `describeWithFlags` style. A transport supplies a `WorldFactory`; its
 * harness runs the named cases of communicator-cases.ts on every rank and hands back each rank's
 * result. References are computed here, on the test's thread, from the same inputs:
 *
 * - all-reduce sum/max/min: bitwise equal to reducing the ranks' inputs in ascending rank order with
 *   `reduceInto` (float64 and float32), on every rank, including buffers far larger than one chunk;
 * - broadcast from every root; send/recv per-pair FIFO order, payloads intact, recv() from any rank;
 * - barrier: nobody leaves before the last arrives; misuse → typed errors; a missing peer → TIMEOUT
 *   naming it; statistics count what moved.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommStats } from '../../src/comm/communicator.js';
import { reduceInto } from '../../src/comm/communicator.js';
import type { DType, FloatArray } from '../../src/core/storage.js';
import type { CaseError, CaseName } from './communicator-cases.js';
import { inputFor } from './communicator-cases.js';

export interface CommWorld {
  readonly size: number;
  /** Run case `name` on every rank; results indexed by rank. */
  run(name: CaseName, args?: unknown): Promise<unknown[]>;
  close(): Promise<void>;
}

export type WorldFactory = (size: number, options: { timeoutMs?: number }) => Promise<CommWorld>;

export interface SuiteOptions {
  sizes: number[];
  /** Buffer lengths to all-reduce and broadcast; include one far above the transport's chunk size. */
  lengths: number[];
}

function bytesOf(array: FloatArray): Buffer {
  return Buffer.from(array.buffer, array.byteOffset, array.byteLength);
}

function assertBitwise(actual: FloatArray, expected: FloatArray, what: string): void {
  assert.equal(actual.constructor, expected.constructor, `${what}: dtype`);
  assert.equal(actual.length, expected.length, `${what}: length`);
  if (!bytesOf(actual).equals(bytesOf(expected))) {
    const i = actual.findIndex((value, k) => !Object.is(value, expected[k]));
    assert.fail(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]} (bitwise)`);
  }
}

function rankOrderReduce(size: number, dtype: DType, length: number, seed: number, op: 'sum' | 'max' | 'min'): FloatArray {
  const result = inputFor(0, dtype, length, seed);
  for (let rank = 1; rank < size; rank++) reduceInto(result, inputFor(rank, dtype, length, seed), op);
  return result;
}

type BufferResult = { results: FloatArray[]; stats: CommStats };

export function communicatorSuite(label: string, factory: WorldFactory, options: SuiteOptions): void {
  for (const size of options.sizes) {
    const name = `${label} (size ${size})`;

    test(`${name}: all-reduce sum/max/min equals the rank-order reference bitwise, on every rank`, async () => {
      const world = await factory(size, {});
      try {
        for (const dtype of ['float64', 'float32'] as const) {
          for (const length of options.lengths) {
            const seed = 11 + length;
            const perRank = (await world.run('allReduce', { dtype, length, seed })) as BufferResult[];
            const ops = ['sum', 'max', 'min'] as const;
            ops.forEach((op, k) => {
              const expected = rankOrderReduce(size, dtype, length, seed, op);
              perRank.forEach((result, rank) =>
                assertBitwise(result.results[k]!, expected, `${dtype} ${op} length ${length} rank ${rank}`),
              );
            });
            let bytesSent = 0;
            for (const { stats } of perRank) {
              assert.equal(stats.collectives, 3, 'three all-reduces counted as three collectives');
              assert.ok(stats.commMs >= 0);
              bytesSent += stats.bytesSent;
            }
            // Whatever the algorithm, each rank's contribution but one must leave it.
            const elementBytes = dtype === 'float64' ? 8 : 4;
            assert.ok(bytesSent >= 3 * (size - 1) * length * elementBytes, `bytes sent ${bytesSent} cover ${size - 1} ranks' buffers`);
          }
        }
      } finally {
        await world.close();
      }
    });

    test(`${name}: broadcast from every root delivers the root's buffer to every rank`, async () => {
      const world = await factory(size, {});
      try {
        for (const dtype of ['float64', 'float32'] as const) {
          for (const length of options.lengths) {
            const perRank = (await world.run('broadcast', { dtype, length, seed: 3 })) as BufferResult[];
            for (let root = 0; root < size; root++) {
              const expected = inputFor(root, dtype, length, 3);
              perRank.forEach((result, rank) =>
                assertBitwise(result.results[root]!, expected, `${dtype} length ${length} root ${root} → rank ${rank}`),
              );
            }
            for (const { stats } of perRank) assert.equal(stats.collectives, size);
            const received = perRank.reduce((sum, { stats }) => sum + stats.bytesReceived, 0);
            assert.ok(received >= size * (size - 1) * length * (dtype === 'float64' ? 8 : 4), 'every non-root received the whole buffer');
          }
        }
      } finally {
        await world.close();
      }
    });

    test(`${name}: send/recv keeps per-pair order and payloads; recv() takes any sender`, async () => {
      const count = 20;
      const largeLength = Math.max(...options.lengths);
      const world = await factory(size, {});
      try {
        type Summary = { from: number; tag: string; header?: Record<string, unknown>; arrays: FloatArray[] };
        const perRank = (await world.run('pointToPoint', { count, largeLength })) as {
          perSender: Summary[];
          anyOrder: Summary[];
          stats: CommStats;
        }[];
        perRank.forEach(({ perSender, anyOrder, stats }, rank) => {
          const peers = [...Array(size).keys()].filter((r) => r !== rank);
          assert.equal(perSender.length, peers.length * (count + 2));
          let k = 0;
          for (const from of peers) {
            for (let seq = 0; seq < count; seq++) {
              const message = perSender[k++]!;
              assert.equal(message.from, from);
              assert.equal(message.tag, 'seq');
              assert.deepEqual(message.header, { from, seq }, `rank ${rank}: message ${seq} from ${from} arrives in order`);
              assert.deepEqual(message.arrays[0], new Float64Array(seq + 1).fill(from * 1000 + seq));
              assert.deepEqual(message.arrays[1], Float32Array.of(seq, -seq));
            }
            const large = perSender[k++]!;
            assert.equal(large.tag, 'large');
            assertBitwise(large.arrays[0]!, inputFor(from, 'float64', largeLength, 5), `large message ${from} → ${rank}`);
            const bare = perSender[k++]!;
            assert.equal(bare.tag, 'bare');
            assert.equal(bare.arrays.length, 0);
          }
          const expectedMessages = peers.length * (count + 2);
          assert.equal(stats.messagesReceived, expectedMessages + (rank === 0 ? (size - 1) * count : 0));
          assert.equal(stats.messagesSent, expectedMessages + (rank === 0 ? 0 : count));
          assert.ok(stats.bytesSent >= peers.length * largeLength * 8, 'payload bytes counted');
          if (rank === 0) {
            assert.equal(anyOrder.length, (size - 1) * count);
            for (const from of peers) {
              const seqs = anyOrder.filter((m) => m.from === from).map((m) => m.header?.['seq']);
              assert.deepEqual(seqs, [...Array(count).keys()], `recv() keeps rank ${from}'s order`);
            }
          }
        });
      } finally {
        await world.close();
      }
    });

    test(`${name}: barrier releases nobody before the last rank arrives`, async () => {
      const world = await factory(size, {});
      try {
        const perRank = (await world.run('barrier', { staggerMs: 30, repeats: 200 })) as {
          enteredAt: number;
          leftAt: number;
          repeated: number;
        }[];
        const lastArrival = Math.max(...perRank.map((r) => r.enteredAt));
        for (const result of perRank) {
          assert.ok(result.leftAt >= lastArrival, `left at ${result.leftAt}, last arrival at ${lastArrival}`);
          assert.equal(result.repeated, 200);
        }
      } finally {
        await world.close();
      }
    });

    test(`${name}: misuse is refused with a CommError and the communicator keeps working`, async () => {
      const world = await factory(size, {});
      try {
        const perRank = (await world.run('misuse')) as { errors: CaseError[]; afterwards: number }[];
        // The case's attempts, in order: broadcast root `size`, send to `size`, send to -1, recv from `size + 1`.
        const offending = [size, size, -1, size + 1];
        for (const { errors, afterwards } of perRank) {
          errors.forEach((error, k) => {
            assert.equal(error.name, 'CommError', error.message);
            assert.equal(error.code, 'COMM');
            assert.ok(error.message.includes(String(offending[k])), `'${error.message}' names the offending rank ${offending[k]}`);
          });
          assert.equal(afterwards, size);
        }
      } finally {
        await world.close();
      }
    });

    if (size > 1) {
      test(`${name}: a peer that never arrives makes the others time out, naming it`, async () => {
        // 1 s, not less: under load (≈ 9 on 2 cores) a present rank's start-up took over 300 ms once,
        // and the others then named it instead of the missing one.
        const world = await factory(size, { timeoutMs: 1000 });
        try {
          const perRank = (await world.run('missingPeer')) as { error: CaseError | null }[];
          perRank.slice(0, -1).forEach(({ error }, rank) => {
            assert.ok(error !== null, `rank ${rank} reported`);
            assert.equal(error.code, 'TIMEOUT', error.message);
            assert.equal(error.rank, size - 1);
            assert.match(error.message, new RegExp(`rank ${size - 1}`));
          });
        } finally {
          await world.close();
        }
      });
    }
  }
}
