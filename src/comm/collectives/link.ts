/**
 * Collectives written once on a point-to-point link (any transport that can send a list of typed
 * arrays to a rank and receive the next list from a rank, in per-pair FIFO order).
 *
 * All-reduce comes in two algorithms, both reduce-scatter + all-gather and both bandwidth-optimal —
 * each rank sends and receives 2(N−1)/N of the buffer, the lower bound of Patarasuk & Yuan (2009):
 *
 * - `direct` (the default): in the reduce-scatter each rank sends chunk j of its buffer straight to
 *   its owner j, which sums the N contributions in ascending rank order, ((b0 + b1) + b2) + …; then
 *   each owner sends its reduced chunk to every rank. Same bytes as the ring, but every element is
 *   summed in rank order — bitwise equal to `sequential`'s reference order and to the threads
 *   transport, which the Communicator contract requires.
 * - `ring` (Baidu / Horovod): N−1 steps around the ring, each rank sending one chunk to its
 *   successor. Chunk c is summed in ring order starting at rank c+1, not rank order, so the result is
 *   bitwise identical on every rank and reproducible for a fixed world size, but may differ from the
 *   rank-order sum in the last bits (relative 1e-15 in float64). Its advantage is topological (each
 *   rank talks to two neighbours), which loopback and full-bisection switches do not need; offered
 *   for benchmarks and for networks where that matters.
 *
 * Both cut chunks into segments of at most `segmentElements` values, so no message exceeds the
 * socket's maximum size and receiving overlaps with reducing.
 */
import type { FloatArray } from '../../core/storage.js';
import type { ReduceOp } from '../communicator.js';
import { reduceInto } from '../communicator.js';

/** One collective's view of the transport: send arrays to a rank, receive the next arrays from a rank. */
export interface CollectiveLink {
  readonly rank: number;
  readonly size: number;
  send(to: number, arrays: FloatArray[]): Promise<void>;
  recv(from: number): Promise<FloatArray[]>;
}

export type AllReduceAlgorithm = 'direct' | 'ring';

/** [start, end) of chunk `c` of `length` split into `size` near-equal chunks. */
function chunkBounds(length: number, size: number, c: number): [number, number] {
  return [Math.floor((c * length) / size), Math.floor(((c + 1) * length) / size)];
}

function segmentsOf(start: number, end: number, segmentElements: number): [number, number][] {
  const out: [number, number][] = [];
  for (let s = start; s < end; s += segmentElements) out.push([s, Math.min(end, s + segmentElements)]);
  return out;
}

async function recvSegment(link: CollectiveLink, from: number, expectedLength: number): Promise<FloatArray> {
  const [piece] = await link.recv(from);
  if (piece === undefined || piece.length !== expectedLength) {
    throw new RangeError(
      `rank ${from} sent a segment of ${piece?.length ?? 0} values where ${expectedLength} were expected: the ranks' buffers differ in length`,
    );
  }
  return piece;
}

/** Send chunk [start, end) of `buffer` to `to`, segment by segment (copies: the caller may overwrite `buffer` before they leave). */
function sendRange(
  link: CollectiveLink,
  to: number,
  buffer: FloatArray,
  start: number,
  end: number,
  segmentElements: number,
): Promise<void>[] {
  return segmentsOf(start, end, segmentElements).map(([s, e]) => link.send(to, [buffer.slice(s, e)]));
}

/** In-place all-reduce, rank-ordered (see the module comment). */
export async function directAllReduce(link: CollectiveLink, buffer: FloatArray, op: ReduceOp, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size === 1) return;
  const sends: Promise<void>[] = [];
  // Staggered order (rank+1, rank+2, …) so the ranks do not all send to rank 0 first.
  for (let k = 1; k < size; k++) {
    const to = (rank + k) % size;
    sends.push(...sendRange(link, to, buffer, ...chunkBounds(buffer.length, size, to), segmentElements));
  }
  const [start, end] = chunkBounds(buffer.length, size, rank);
  const reduced = buffer.slice(start, end);
  for (const [s, e] of segmentsOf(start, end, segmentElements)) {
    const target = reduced.subarray(s - start, e - start);
    for (let from = 0; from < size; from++) {
      const contribution = from === rank ? buffer.subarray(s, e) : await recvSegment(link, from, e - s);
      if (from === 0) target.set(contribution);
      else reduceInto(target, contribution, op);
    }
  }
  for (let k = 1; k < size; k++) sends.push(...sendRange(link, (rank + k) % size, reduced, 0, reduced.length, segmentElements));
  for (let k = 1; k < size; k++) {
    const from = (rank - k + size) % size;
    const [fromStart, fromEnd] = chunkBounds(buffer.length, size, from);
    for (const [s, e] of segmentsOf(fromStart, fromEnd, segmentElements)) buffer.set(await recvSegment(link, from, e - s), s);
  }
  buffer.set(reduced, start);
  await Promise.all(sends);
}

/** In-place all-reduce around the ring (sums in ring order; see the module comment). */
export async function ringAllReduce(link: CollectiveLink, buffer: FloatArray, op: ReduceOp, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size === 1) return;
  const next = (rank + 1) % size;
  const previous = (rank - 1 + size) % size;
  const step = async (sendChunk: number, receiveChunk: number, combine: (target: FloatArray, piece: FloatArray) => void): Promise<void> => {
    const sending = sendRange(link, next, buffer, ...chunkBounds(buffer.length, size, sendChunk), segmentElements);
    const [start, end] = chunkBounds(buffer.length, size, receiveChunk);
    for (const [s, e] of segmentsOf(start, end, segmentElements)) combine(buffer.subarray(s, e), await recvSegment(link, previous, e - s));
    await Promise.all(sending);
  };
  for (let s = 0; s < size - 1; s++) {
    await step((rank - s + size) % size, (rank - s - 1 + 2 * size) % size, (target, piece) => reduceInto(target, piece, op));
  }
  for (let s = 0; s < size - 1; s++) {
    await step((rank + 1 - s + size) % size, (rank - s + size) % size, (target, piece) => target.set(piece));
  }
}

/** Copy `root`'s buffer to every rank: the root sends it to each peer directly. */
export async function directBroadcast(link: CollectiveLink, buffer: FloatArray, root: number, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size === 1) return;
  if (rank === root) {
    const sends: Promise<void>[] = [];
    for (let k = 1; k < size; k++) sends.push(...sendRange(link, (root + k) % size, buffer, 0, buffer.length, segmentElements));
    await Promise.all(sends);
    return;
  }
  for (const [s, e] of segmentsOf(0, buffer.length, segmentElements)) buffer.set(await recvSegment(link, root, e - s), s);
}

/**
 * Nobody leaves before everybody arrived: every rank tells every other, then hears from each in
 * rank order — so a rank that never arrives is the one every other rank's timeout names.
 */
export async function allToAllBarrier(link: CollectiveLink): Promise<void> {
  const { rank, size } = link;
  const sends: Promise<void>[] = [];
  for (let k = 1; k < size; k++) sends.push(link.send((rank + k) % size, []));
  for (let from = 0; from < size; from++) if (from !== rank) await link.recv(from);
  await Promise.all(sends);
}
