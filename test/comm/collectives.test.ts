// The wire collectives of collectives/link.ts on an in-process link between N async ranks, at the
// sizes where chunk and segment arithmetic breaks: empty, 1 element, lengths not divisible by
// world × segments, the 2-rank exchange's threshold and one past it; float32 and float64; sum, max
// and min. The link delivers each message a seeded-random number of event-loop turns after it was
// sent and reads the sender's memory only then, as libzmq and the lane do with zero-copy sends: an
// algorithm that overwrote a segment it sent as a view before its reader had it would fail here.
// `direct` and the exchange must equal the rank-order reference bitwise; `ring` must agree on every
// rank bitwise and with the reference within float rounding. A refused value names its sender and
// its element in the buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReduceOp } from '../../src/comm/communicator.js';
import { reduceInto } from '../../src/comm/communicator.js';
import type { AllReduceAlgorithm, CollectiveLink } from '../../src/comm/collectives/link.js';
import { EXCHANGE_MAX_BYTES, allReduceWith, allToAllBarrier, directBroadcast } from '../../src/comm/collectives/link.js';
import type { DType, FloatArray } from '../../src/core/storage.js';
import { Rng } from '../../src/core/rng.js';
import { inputFor } from './communicator-cases.js';

class RefusedValue extends Error {
  constructor(
    readonly from: number,
    readonly value: number,
    readonly index: number,
  ) {
    super(`rank ${from} sent ${value} at element ${index}`);
  }
}

type Waiting = { resolve: (arrays: FloatArray[]) => void; reject: (error: Error) => void } | null;

/**
 * N links in one process; a message's bytes are read from the sender's memory when it is delivered.
 * `abort` fails every pending receive (a rank that failed will never send what the others wait for).
 */
function memoryLinks(size: number, allowInfinity: boolean, seed: number, resolveAfterRead = false): CollectiveLink[] & { abort(): void } {
  const rng = new Rng(seed);
  const queues = Array.from({ length: size }, () => Array.from({ length: size }, () => [] as FloatArray[][]));
  const waiting = Array.from({ length: size }, () => new Array<Waiting>(size).fill(null));
  const inFlight = Array.from({ length: size }, () => new Array<Promise<void>>(size).fill(Promise.resolve()));
  const turns = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };
  const links = Array.from({ length: size }, (_, rank): CollectiveLink => ({
    rank,
    size,
    check: { allowInfinity },
    refused: (from, value, index) => new RefusedValue(from, value, index),
    sendResolvesAfterRead: resolveAfterRead,
    send(to: number, arrays: FloatArray[]): Promise<void> {
      const delay = rng.int(4);
      // Per-pair FIFO: each delivery waits for the one before it on this pair.
      inFlight[rank]![to] = inFlight[rank]![to]!.then(async () => {
        await turns(delay);
        const copies = arrays.map((array) => array.slice()); // the memory is read now, not at send
        const waiter = waiting[to]![rank];
        if (waiter !== null && waiter !== undefined) {
          waiting[to]![rank] = null;
          waiter.resolve(copies);
        } else queues[to]![rank]!.push(copies);
      });
      // Like ZeroMQ: the send is queued, not yet read. Like the lane: it resolves once read.
      return resolveAfterRead ? inFlight[rank]![to]! : Promise.resolve();
    },
    recv(from: number): Promise<FloatArray[]> {
      const queued = queues[rank]![from]!.shift();
      if (queued !== undefined) return Promise.resolve(queued);
      return new Promise((resolve, reject) => (waiting[rank]![from] = { resolve, reject }));
    },
  }));
  const abort = (): void => {
    for (const row of waiting) {
      row.forEach((waiter, from) => {
        row[from] = null;
        waiter?.reject(new Error('aborted'));
      });
    }
  };
  return Object.assign(links, { abort });
}

function reference(size: number, dtype: DType, length: number, seed: number, op: ReduceOp): FloatArray {
  const result = inputFor(0, dtype, length, seed);
  for (let rank = 1; rank < size; rank++) reduceInto(result, inputFor(rank, dtype, length, seed), op);
  return result;
}

const bytes = (array: FloatArray): Buffer => Buffer.from(array.buffer, array.byteOffset, array.byteLength);

async function allReduceAll(
  size: number,
  inputs: FloatArray[],
  op: ReduceOp,
  algorithm: AllReduceAlgorithm,
  segmentElements: number,
  seed: number,
  resolveAfterRead = false,
): Promise<FloatArray[]> {
  const links = memoryLinks(size, op !== 'sum', seed, resolveAfterRead);
  await Promise.all(links.map((link, rank) => allReduceWith(link, inputs[rank]!, op, algorithm, segmentElements)));
  return inputs;
}

const exchangeLength = (dtype: DType): number => EXCHANGE_MAX_BYTES / (dtype === 'float32' ? 4 : 8);

test('all-reduce at chunk and segment boundaries: direct and the 2-rank exchange equal the rank-order reference bitwise', async () => {
  for (const size of [2, 3, 4]) {
    for (const dtype of ['float32', 'float64'] as const) {
      const lengths = [0, 1, 2, 3, 5, 7, 13, 1001, ...(size === 2 ? [exchangeLength(dtype), exchangeLength(dtype) + 1] : [])];
      for (const length of lengths) {
        for (const op of ['sum', 'max', 'min'] as const) {
          // Many tiny segments where the arithmetic is at stake; few where the length is the point.
          for (const segmentElements of length <= 13 ? [1, 3, 1000] : length <= 1001 ? [3, 1000] : [1000, 16_384]) {
            const seed = 31 + length;
            const expected = reference(size, dtype, length, seed, op);
            // Sends that resolve before (ZeroMQ) and after (the lane) their memory is read.
            for (const resolveAfterRead of [false, true]) {
              const inputs = Array.from({ length: size }, (_, rank) => inputFor(rank, dtype, length, seed));
              const results = await allReduceAll(size, inputs, op, 'direct', segmentElements, seed, resolveAfterRead);
              results.forEach((result, rank) =>
                assert.ok(
                  bytes(result).equals(bytes(expected)),
                  `world ${size} ${dtype} length ${length} ${op} segments of ${segmentElements}${resolveAfterRead ? ', sends resolved once read' : ''}: rank ${rank} differs from the reference`,
                ),
              );
            }
          }
        }
      }
    }
  }
});

test('ring all-reduce at chunk boundaries: bitwise identical on every rank, within rounding of the reference', async () => {
  for (const size of [2, 3, 4]) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const length of [0, 1, 2, 3, 7, 1001, 40_000]) {
        const seed = 47 + length;
        const inputs = Array.from({ length: size }, (_, rank) => inputFor(rank, dtype, length, seed));
        const results = await allReduceAll(size, inputs, 'sum', 'ring', length > 1001 ? 1000 : 7, seed, length % 2 === 1);
        const expected = reference(size, dtype, length, seed, 'sum');
        const tolerance = dtype === 'float32' ? 1e-5 : 1e-12;
        let scale = 1;
        for (const value of expected) scale = Math.max(scale, Math.abs(value));
        results.forEach((result, rank) => {
          assert.ok(bytes(result).equals(bytes(results[0]!)), `world ${size} ${dtype} length ${length}: rank ${rank} differs from rank 0`);
          result.forEach((value, i) =>
            assert.ok(Math.abs(value - expected[i]!) <= tolerance * scale, `world ${size} ${dtype} length ${length} element ${i}`),
          );
        });
      }
    }
  }
});

test('max and min keep rank order where it decides the result (+0 against −0), on the exchange and on direct', async () => {
  for (const size of [2, 3]) {
    for (const op of ['max', 'min'] as const) {
      // Sends resolved once read (the lane): ranks 0 and 1 reduce in place, rank 0's values first.
      for (const resolveAfterRead of [false, true]) {
        const inputs = Array.from({ length: size }, (_, rank) => Float64Array.of(rank === 0 ? 0 : -0, rank === 0 ? -0 : 0, 1, -Infinity));
        const expected = Float64Array.from(inputs[0]!);
        for (let rank = 1; rank < size; rank++) reduceInto(expected, inputs[rank]!, op);
        const results = await allReduceAll(size, inputs, op, 'direct', 1, 5, resolveAfterRead);
        results.forEach((result, rank) =>
          assert.ok(
            bytes(result).equals(bytes(expected)),
            `world ${size} ${op}${resolveAfterRead ? ', sends resolved once read' : ''}: rank ${rank}`,
          ),
        );
      }
    }
  }
});

test('a non-finite value from the wire fails the all-reduce naming its sender and its element in the buffer; max admits ±∞', async () => {
  for (const [size, length, at] of [
    [2, 9, 4], // the exchange
    [2, 100_000, 70_000], // direct, rank 1's half
    [3, 10, 8], // direct, rank 2's chunk
  ] as const) {
    for (const dtype of ['float32', 'float64'] as const) {
      const inputs = Array.from({ length: size }, (_, rank) => inputFor(rank, dtype, length, 3));
      inputs[1]![at] = NaN;
      const links = memoryLinks(size, false, 9);
      const outcomes = await Promise.allSettled(
        links.map((link, rank) =>
          allReduceWith(link, inputs[rank]!, 'sum', 'direct', 4096).catch((error: unknown) => {
            links.abort();
            throw error;
          }),
        ),
      );
      const refusals = outcomes
        .filter((o): o is PromiseRejectedResult => o.status === 'rejected')
        .map((o) => o.reason as Error)
        .filter((reason): reason is RefusedValue => reason instanceof RefusedValue);
      assert.ok(refusals.length >= 1, `world ${size} length ${length} ${dtype}: someone refuses the NaN`);
      for (const refusal of refusals) {
        assert.equal(refusal.index, at, `world ${size} ${dtype}: the element named`);
        assert.ok(Number.isNaN(refusal.value));
      }
      assert.ok(
        refusals.some((r) => r.from === 1),
        'the rank that sent it is named',
      );
    }
  }
  const withInfinity = [Float64Array.of(1, -Infinity, 3), Float64Array.of(Infinity, 2, 0)];
  const results = await allReduceAll(2, withInfinity, 'max', 'direct', 2, 1);
  for (const result of results) assert.deepEqual([...result], [Infinity, 2, 3]);
});

test('broadcast and barrier on the same link: every rank ends with the root buffer at segment boundaries', async () => {
  for (const size of [2, 3]) {
    for (const length of [0, 1, 7, 1001]) {
      for (let root = 0; root < size; root++) {
        const links = memoryLinks(size, false, root);
        const buffers = Array.from({ length: size }, (_, rank) => inputFor(rank, 'float32', length, 2));
        await Promise.all(links.map((link, rank) => directBroadcast(link, buffers[rank]!, root, 3)));
        for (const buffer of buffers) assert.ok(bytes(buffer).equals(bytes(inputFor(root, 'float32', length, 2))));
        await Promise.all(links.map((link) => allToAllBarrier(link)));
      }
    }
  }
});

/**
 * Rank 0's link in a world of 3 where rank 2 is gone: a send to it fails at once (the EPIPE of a
 * killed peer's socket), and rank 1's part arrives only after `delayMs`, then fails too (the rank's
 * transport gives up on the collective).
 */
function linkToALostPeer(delayMs: number): CollectiveLink {
  return {
    rank: 0,
    size: 3,
    check: { allowInfinity: false },
    refused: (from, value, index) => new RefusedValue(from, value, index),
    send: (to) => new Promise<void>((resolve, reject) => setImmediate(() => (to === 2 ? reject(new Error('write EPIPE')) : resolve()))),
    recv: () => new Promise<FloatArray[]>((_, reject) => setTimeout(() => reject(new Error('rank 2 was lost')), delayMs)),
  };
}

test('a send that fails while the collective waits on a receive is no unhandled rejection: the collective fails with an error, the process goes on', async () => {
  // Seen with compare's fault cells: a survivor's send to a SIGKILLed peer failed (EPIPE) while its
  // all-reduce awaited another peer, and the unobserved rejection ended the survivor's process.
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await assert.rejects(allReduceWith(linkToALostPeer(30), new Float32Array(12), 'sum', 'direct', 4));
    await assert.rejects(allReduceWith(linkToALostPeer(30), new Float32Array(12), 'sum', 'ring', 4));
    await assert.rejects(allToAllBarrier(linkToALostPeer(30)));
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.removeListener('unhandledRejection', onUnhandled);
  }
  assert.deepEqual(unhandled.map(String), []);
});
