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
 * - `exchange` (chosen by the size, not named): at world 2 and up to EXCHANGE_MAX_BYTES, each rank
 *   sends its whole buffer to the other and both reduce, in rank order, what they hold: one message
 *   each way instead of two in a row, so half the latency at the sizes where latency is the cost.
 *   Each rank sends and receives n values instead of n/2 twice: the same bytes at world 2.
 *
 * All cut chunks into segments of at most `segmentElements` values, so no message exceeds the
 * socket's maximum size and the wire, the reduction and the copies overlap: a segment is reduced
 * while the next ones arrive, and a reduced segment leaves for its readers at once.
 *
 * What arrives is checked as it is reduced or copied (collectives/reduce.ts), in the same pass; a
 * refused value fails the collective with `link.refused`, naming the sender and the element.
 *
 * Zero-copy sends: a segment of the caller's buffer goes out as a view of it (the ZeroMQ transport
 * hands the memory to libzmq, which reads it when it writes the socket). That is safe only while the
 * memory cannot change before the peer has read it, i.e. when this rank later receives something the
 * peer could only send after reading it: the reduce-scatter's sends (the owner's reduced chunk comes
 * back only after it read ours). The last sends of a collective have no such answer — the caller may
 * overwrite its buffer as soon as the collective returns — so they go out from memory the caller
 * never sees (a copy, or the reduced chunk this rank allocated) — unless the link's sends resolve
 * only once read (`sendResolvesAfterRead`, the lane), and the collective awaits them before returning.
 */
import type { FloatArray } from '../../core/storage.js';
import type { ReduceOp } from '../communicator.js';
import type { ValueCheck } from './reduce.js';
import { TRUSTED, copyChecked, reduceChecked, stage, unstage } from './reduce.js';

/** One collective's view of the transport: send arrays to a rank, receive the next arrays from a rank. */
export interface CollectiveLink {
  readonly rank: number;
  readonly size: number;
  /** Send `arrays` to `to`; they may be views of memory the collective still uses (see the top of this file). */
  send(to: number, arrays: FloatArray[]): Promise<void>;
  /** The next arrays from `from`, not yet checked: the collective checks them as it uses them. */
  recv(from: number): Promise<FloatArray[]>;
  /**
   * Optional: `recv` of a one-array message, read straight into `into` when it has its dtype and
   * length and arrives after the call (else into the link's memory, as `recv`); resolves with the
   * array it landed in (undefined for an empty message). The link stops writing `into` before the
   * promise settles, also when it fails, so the collective may reuse `into` at once.
   */
  recvInto?(from: number, into: FloatArray): Promise<FloatArray | undefined>;
  /** What a value from the wire may be in this collective. */
  readonly check: ValueCheck;
  /** The error when `from` sent `value`, refused by `check`, at element `index` of the collective's buffer. */
  refused(from: number, value: number, index: number): Error;
  /** Optional: a received array the collective no longer reads, for the link to receive into again. */
  release?(array: FloatArray): void;
  /**
   * True when a send resolves only once its memory has been read (the lane's sockets: the kernel has
   * the bytes). The last sends may then be views too, as the collective awaits them before it returns.
   */
  readonly sendResolvesAfterRead?: boolean;
}

export type AllReduceAlgorithm = 'direct' | 'ring';

/**
 * Largest buffer the 2-rank all-reduce sends whole (the `exchange`). Above it the reduce-scatter +
 * all-gather wins: each rank reduces half the buffer instead of all of it, and the two halves
 * pipeline. Measured with `npm run bench:allreduce` (zmq-ipc, float32): see docs/distributed.md.
 */
export const EXCHANGE_MAX_BYTES = 256 * 1024;

/** [start, end) of chunk `c` of `length` split into `size` near-equal chunks. */
export function chunkBounds(length: number, size: number, c: number): [number, number] {
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

/** Reduce `piece` from `from` into `target` (element `offset` of the buffer), or fail naming the value. */
function reduceFrom(
  link: CollectiveLink,
  from: number,
  target: FloatArray,
  piece: FloatArray,
  op: ReduceOp,
  offset: number,
  sourceFirst = false,
): void {
  const bad = reduceChecked(target, piece, op, link.check, sourceFirst);
  if (bad >= 0) throw link.refused(from, piece[bad]!, offset + bad);
  link.release?.(piece);
}

/**
 * The next segment from `from`, of `target.length` values, reduced into `target` (element `offset` of
 * the buffer) or copied there (`op` null); fails naming a refused value. On a link that receives into
 * given memory, the segment is read into the WASM kernels' staging area (collectives/reduce.ts
 * `stage`), where they reduce or check it without copying it in: one pass less over each segment.
 */
async function takeSegment(
  link: CollectiveLink,
  from: number,
  target: FloatArray,
  op: ReduceOp | null,
  offset: number,
  sourceFirst = false,
): Promise<void> {
  const staged = link.recvInto === undefined ? null : stage(target, target.length);
  try {
    let piece: FloatArray;
    if (staged === null) piece = await recvSegment(link, from, target.length);
    else {
      const landed = await link.recvInto!(from, staged);
      if (landed === undefined || landed.length !== target.length) {
        throw new RangeError(
          `rank ${from} sent a segment of ${landed?.length ?? 0} values where ${target.length} were expected: the ranks' buffers differ in length`,
        );
      }
      piece = landed;
    }
    const bad = op === null ? copyChecked(target, piece, link.check) : reduceChecked(target, piece, op, link.check, sourceFirst);
    if (bad >= 0) throw link.refused(from, piece[bad]!, offset + bad);
    if (piece !== staged) link.release?.(piece);
  } finally {
    if (staged !== null) unstage();
  }
}

/** Copy `piece` from `from` into `target` (element `offset` of the buffer), or fail naming the value. */
function copyFrom(link: CollectiveLink, from: number, target: FloatArray, piece: FloatArray, offset: number): void {
  const bad = copyChecked(target, piece, link.check);
  if (bad >= 0) throw link.refused(from, piece[bad]!, offset + bad);
  link.release?.(piece);
}

/**
 * `link.send`, its failure observed at once. A collective awaits its sends only after its receives,
 * so a send that fails meanwhile (the EPIPE of a peer killed mid-collective) would otherwise be an
 * unhandled rejection, which ends the process before the collective fails with it: seen as a
 * survivor of compare's fault cells dying instead of re-forming. Whoever awaits the send still gets
 * its error.
 */
function sendTo(link: CollectiveLink, to: number, arrays: FloatArray[]): Promise<void> {
  const sending = link.send(to, arrays);
  sending.catch(() => undefined);
  return sending;
}

/** Send [start, end) of `buffer` to `to` as views, segment by segment (only where safe: see the top of this file). */
function sendViews(
  link: CollectiveLink,
  to: number,
  buffer: FloatArray,
  start: number,
  end: number,
  segmentElements: number,
): Promise<void>[] {
  return segmentsOf(start, end, segmentElements).map(([s, e]) => sendTo(link, to, [buffer.subarray(s, e)]));
}

/** Send [start, end) of `buffer` to `to` as copies, segment by segment (the caller may overwrite `buffer` before they leave). */
function sendCopies(
  link: CollectiveLink,
  to: number,
  buffer: FloatArray,
  start: number,
  end: number,
  segmentElements: number,
): Promise<void>[] {
  return segmentsOf(start, end, segmentElements).map(([s, e]) => sendTo(link, to, [buffer.slice(s, e)]));
}

/** The last sends of a collective: views when the link reads them before the send resolves, else copies. */
function sendLast(
  link: CollectiveLink,
  to: number,
  buffer: FloatArray,
  start: number,
  end: number,
  segmentElements: number,
): Promise<void>[] {
  return (link.sendResolvesAfterRead === true ? sendViews : sendCopies)(link, to, buffer, start, end, segmentElements);
}

/** Settle every send before returning or failing, so no send outlives its collective unobserved. */
async function settled(sends: Promise<void>[], body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    await Promise.allSettled(sends);
    throw error;
  }
  await Promise.all(sends);
}

/** The all-reduce `allReduce` runs for this world and size: the exchange at world 2 up to EXCHANGE_MAX_BYTES, else `algorithm`. */
export function allReduceWith(
  link: CollectiveLink,
  buffer: FloatArray,
  op: ReduceOp,
  algorithm: AllReduceAlgorithm,
  segmentElements: number,
): Promise<void> {
  if (link.size === 2 && buffer.byteLength <= EXCHANGE_MAX_BYTES) return exchangeAllReduce(link, buffer, op, segmentElements);
  return algorithm === 'ring' ? ringAllReduce(link, buffer, op, segmentElements) : directAllReduce(link, buffer, op, segmentElements);
}

/**
 * In-place all-reduce of two ranks: each sends its whole buffer (a copy: the peer may still be
 * reading it when this rank returns) and reduces the other's into its own, rank 0's values first.
 */
export async function exchangeAllReduce(link: CollectiveLink, buffer: FloatArray, op: ReduceOp, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size !== 2) throw new RangeError(`exchangeAllReduce: a world of 2 ranks, not ${size}`);
  if (buffer.length === 0) return;
  const peer = 1 - rank;
  const sends = sendLast(link, peer, buffer, 0, buffer.length, segmentElements);
  await settled(sends, async () => {
    let k = 0;
    for (const [s, e] of segmentsOf(0, buffer.length, segmentElements)) {
      const piece = await recvSegment(link, peer, e - s);
      // A segment sent as a view must have been read before it is reduced into (sendLast).
      if (link.sendResolvesAfterRead === true) await sends[k];
      k++;
      reduceFrom(link, peer, buffer.subarray(s, e), piece, op, s, rank === 1);
    }
  });
}

/** In-place all-reduce, rank-ordered (see the module comment). */
export async function directAllReduce(link: CollectiveLink, buffer: FloatArray, op: ReduceOp, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size === 1 || buffer.length === 0) return;
  const sends: Promise<void>[] = [];
  // Reduce-scatter: chunk j of this buffer to its owner j, as views (its reduced chunk j answers them).
  // Staggered order (rank+1, rank+2, …) so the ranks do not all send to rank 0 first.
  for (let k = 1; k < size; k++) {
    const to = (rank + k) % size;
    sends.push(...sendViews(link, to, buffer, ...chunkBounds(buffer.length, size, to), segmentElements));
  }
  await settled(sends, async () => {
    const [start, end] = chunkBounds(buffer.length, size, rank);
    // Reduced in place where rank order allows it — rank 0 (its values come first) and rank 1 (rank
    // 0's are reduced in before its own, `sourceFirst`) — on a link whose sends resolve once read, as
    // the reduced chunk then leaves as views of `buffer` that are awaited before returning. Else into
    // a copy only this function holds. The copy and its write-back cost two passes and a fresh array
    // per call: 13% of a rank's CPU at 8 MiB over the lane (`npm run bench:allreduce`, --cpu-prof).
    const inPlace = link.sendResolvesAfterRead === true && rank <= 1;
    const reduced = inPlace ? buffer.subarray(start, end) : buffer.slice(start, end); // this rank's values; overwritten below when rank > 1
    for (const [s, e] of segmentsOf(start, end, segmentElements)) {
      const target = reduced.subarray(s - start, e - start);
      for (let from = 0; from < size; from++) {
        if (from === rank) {
          if (from > 0 && !inPlace) reduceChecked(target, buffer.subarray(s, e), op, TRUSTED);
          continue;
        }
        if (inPlace && from === 0) await takeSegment(link, from, target, op, s, true);
        else if (from === 0) await takeSegment(link, from, target, null, s);
        else await takeSegment(link, from, target, op, s);
      }
      // All-gather, pipelined: the reduced segment leaves for every rank at once. Views of `reduced`,
      // which never changes again in this collective.
      for (let k = 1; k < size; k++) sends.push(sendTo(link, (rank + k) % size, [target]));
    }
    for (let k = 1; k < size; k++) {
      const from = (rank - k + size) % size;
      const [fromStart, fromEnd] = chunkBounds(buffer.length, size, from);
      for (const [s, e] of segmentsOf(fromStart, fromEnd, segmentElements)) await takeSegment(link, from, buffer.subarray(s, e), null, s);
    }
    if (!inPlace) buffer.set(reduced, start);
  });
}

/** In-place all-reduce around the ring (sums in ring order; see the module comment). */
export async function ringAllReduce(link: CollectiveLink, buffer: FloatArray, op: ReduceOp, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size === 1 || buffer.length === 0) return;
  const next = (rank + 1) % size;
  const previous = (rank - 1 + size) % size;
  const sends: Promise<void>[] = [];
  await settled(sends, async () => {
    // Reduce-scatter: N−1 steps; a chunk sent here as views is overwritten only in the all-gather,
    // by a value that needed this send to be read first.
    for (let step = 0; step < size - 1; step++) {
      const sendChunk = (rank - step + size) % size;
      const receiveChunk = (rank - step - 1 + 2 * size) % size;
      sends.push(...sendViews(link, next, buffer, ...chunkBounds(buffer.length, size, sendChunk), segmentElements));
      for (const [s, e] of segmentsOf(...chunkBounds(buffer.length, size, receiveChunk), segmentElements)) {
        reduceFrom(link, previous, buffer.subarray(s, e), await recvSegment(link, previous, e - s), op, s);
      }
    }
    // All-gather: N−1 steps, each forwarding the chunk received in the step before (copies: nothing
    // answers these sends before the caller may overwrite its buffer).
    for (let step = 0; step < size - 1; step++) {
      const sendChunk = (rank + 1 - step + size) % size;
      const receiveChunk = (rank - step + size) % size;
      sends.push(...sendLast(link, next, buffer, ...chunkBounds(buffer.length, size, sendChunk), segmentElements));
      for (const [s, e] of segmentsOf(...chunkBounds(buffer.length, size, receiveChunk), segmentElements)) {
        copyFrom(link, previous, buffer.subarray(s, e), await recvSegment(link, previous, e - s), s);
      }
    }
  });
}

/** Copy `root`'s buffer to every rank: the root sends it to each peer directly (copies: nothing answers them). */
export async function directBroadcast(link: CollectiveLink, buffer: FloatArray, root: number, segmentElements: number): Promise<void> {
  const { rank, size } = link;
  if (size === 1) return;
  if (rank === root) {
    const sends: Promise<void>[] = [];
    for (let k = 1; k < size; k++) sends.push(...sendLast(link, (root + k) % size, buffer, 0, buffer.length, segmentElements));
    await Promise.all(sends);
    return;
  }
  for (const [s, e] of segmentsOf(0, buffer.length, segmentElements)) await takeSegment(link, root, buffer.subarray(s, e), null, s);
}

/**
 * Nobody leaves before everybody arrived: every rank tells every other, then hears from each in
 * rank order — so a rank that never arrives is the one every other rank's timeout names.
 */
export async function allToAllBarrier(link: CollectiveLink): Promise<void> {
  const { rank, size } = link;
  const sends: Promise<void>[] = [];
  for (let k = 1; k < size; k++) sends.push(sendTo(link, (rank + k) % size, []));
  for (let from = 0; from < size; from++) if (from !== rank) await link.recv(from);
  await Promise.all(sends);
}
