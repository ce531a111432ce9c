/**
 * The per-rank half of the communicator conformance suite: each case is SPMD code that runs on
 * every rank of a world (in a thread, a process or a host — the transport's harness decides) and
 * returns plain data; communicator-suite.ts checks that data against references computed on the
 * test's own thread. Inputs come from `inputFor`, shared by both halves, so nothing but results
 * crosses the harness.
 */
import type { Communicator, CommStats, Message } from '../../src/comm/communicator.js';
import { allGatherBytes } from '../../src/comm/collectives/allgather.js';
import { ShardlearnError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import type { DType, FloatArray } from '../../src/core/storage.js';

/** Rank `rank`'s deterministic input: values of mixed sign and magnitude, with ties, so order matters. */
export function inputFor(rank: number, dtype: DType, length: number, seed: number): FloatArray {
  const rng = new Rng(seed).fork(rank);
  const out = dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
  for (let i = 0; i < length; i++) out[i] = i % 7 === 0 ? Math.round(rng.normal() * 3) : rng.normal() * 10 ** rng.int(7);
  return out;
}

export interface CaseError {
  name: string;
  code: string | undefined;
  rank: number | undefined;
  message: string;
}

function describeError(error: unknown): CaseError {
  if (error instanceof ShardlearnError)
    return { name: error.name, code: error.code, rank: (error as { rank?: number }).rank, message: error.message };
  return { name: 'Error', code: undefined, rank: undefined, message: String(error) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const delta = (before: CommStats, after: CommStats): CommStats => ({
  bytesSent: after.bytesSent - before.bytesSent,
  bytesReceived: after.bytesReceived - before.bytesReceived,
  messagesSent: after.messagesSent - before.messagesSent,
  messagesReceived: after.messagesReceived - before.messagesReceived,
  collectives: after.collectives - before.collectives,
  commMs: after.commMs - before.commMs,
});

interface BufferArgs {
  dtype: DType;
  length: number;
  seed: number;
}

interface PointToPointArgs {
  count: number;
  largeLength: number;
}

type Summary = { from: number; tag: string; header: Message['header']; arrays: FloatArray[] };
const summarise = (message: Message & { from: number }): Summary => ({
  from: message.from,
  tag: message.tag,
  header: message.header,
  arrays: message.arrays ?? [],
});

export const communicatorCases = {
  /** sum, max and min of every rank's input, in that order. */
  async allReduce(comm: Communicator, args: BufferArgs): Promise<{ results: FloatArray[]; stats: CommStats }> {
    const before = { ...comm.stats };
    const results: FloatArray[] = [];
    for (const op of ['sum', 'max', 'min'] as const) {
      const buffer = inputFor(comm.rank, args.dtype, args.length, args.seed);
      await comm.allReduce(buffer, op);
      results.push(buffer);
    }
    return { results, stats: delta(before, { ...comm.stats }) };
  },

  /** One broadcast from every root in turn; each rank starts from its own input. */
  async broadcast(comm: Communicator, args: BufferArgs): Promise<{ results: FloatArray[]; stats: CommStats }> {
    const before = { ...comm.stats };
    const results: FloatArray[] = [];
    for (let root = 0; root < comm.size; root++) {
      const buffer = inputFor(comm.rank, args.dtype, args.length, args.seed);
      await comm.broadcast(buffer, root);
      results.push(buffer);
    }
    return { results, stats: delta(before, { ...comm.stats }) };
  },

  /**
   * Every rank sends `count` numbered messages and one large one to every other rank — all sends
   * in flight while it receives, which a transport must survive without deadlock — then receives
   * them per sender, then everyone but rank 0 sends `count` more that rank 0 takes with recv().
   */
  async pointToPoint(comm: Communicator, args: PointToPointArgs): Promise<{ perSender: Summary[]; anyOrder: Summary[]; stats: CommStats }> {
    const before = { ...comm.stats };
    const sends: Promise<void>[] = [];
    for (let to = 0; to < comm.size; to++) {
      if (to === comm.rank) continue;
      for (let seq = 0; seq < args.count; seq++) {
        sends.push(
          comm.send(to, {
            tag: 'seq',
            header: { from: comm.rank, seq },
            arrays: [new Float64Array(seq + 1).fill(comm.rank * 1000 + seq), Float32Array.of(seq, -seq)],
          }),
        );
      }
      sends.push(comm.send(to, { tag: 'large', arrays: [inputFor(comm.rank, 'float64', args.largeLength, 5)] }));
      sends.push(comm.send(to, { tag: 'bare' }));
    }
    const perSender: Summary[] = [];
    for (let from = 0; from < comm.size; from++) {
      if (from === comm.rank) continue;
      for (let i = 0; i < args.count + 2; i++) perSender.push(summarise(await comm.recv(from)));
    }
    await Promise.all(sends);
    const anyOrder: Summary[] = [];
    if (comm.rank === 0) {
      for (let i = 0; i < (comm.size - 1) * args.count; i++) anyOrder.push(summarise(await comm.recv()));
    } else {
      for (let seq = 0; seq < args.count; seq++) await comm.send(0, { tag: 'any', header: { seq } });
    }
    await comm.barrier();
    return { perSender, anyOrder, stats: delta(before, { ...comm.stats }) };
  },

  /** Ranks arrive at staggered times; nobody may leave before the last one arrived. Then many barriers in a row. */
  async barrier(
    comm: Communicator,
    args: { staggerMs: number; repeats: number },
  ): Promise<{ enteredAt: number; leftAt: number; repeated: number }> {
    await sleep(comm.rank * args.staggerMs);
    const enteredAt = Date.now();
    await comm.barrier();
    const leftAt = Date.now();
    let repeated = 0;
    for (let i = 0; i < args.repeats; i++) {
      await comm.barrier();
      repeated++;
    }
    return { enteredAt, leftAt, repeated };
  },

  /** Misuse is refused with a typed error, and the communicator still works afterwards. */
  async misuse(comm: Communicator): Promise<{ errors: CaseError[]; afterwards: number }> {
    const errors: CaseError[] = [];
    const attempts = [
      () => comm.broadcast(new Float64Array(1), comm.size),
      () => comm.send(comm.size, { tag: 'x' }),
      () => comm.send(-1, { tag: 'x' }),
      () => comm.recv(comm.size + 1),
    ];
    for (const attempt of attempts) {
      try {
        await attempt();
        errors.push({ name: 'none', code: undefined, rank: undefined, message: 'did not throw' });
      } catch (error) {
        errors.push(describeError(error));
      }
    }
    const check = Float64Array.of(1);
    await comm.allReduce(check, 'sum');
    return { errors, afterwards: check[0]! };
  },

  /** allGatherBytes (comm/collectives/allgather.ts) of a rank-dependent byte string, in segments of `segmentBytes`. */
  async allGatherBytes(
    comm: Communicator,
    args: { length: number; segmentBytes: number },
  ): Promise<{ gathered: number[][]; stats: CommStats }> {
    const before = { ...comm.stats };
    const mine = Uint8Array.from({ length: args.length + comm.rank }, (_, i) => (i * 31 + comm.rank * 7) & 0xff);
    const gathered = await allGatherBytes(comm, mine, args.segmentBytes);
    return { gathered: gathered.map((bytes) => [...bytes]), stats: delta(before, { ...comm.stats }) };
  },

  /** The last rank never joins the barrier: every other rank must fail with a timeout that names it. */
  async missingPeer(comm: Communicator): Promise<{ error: CaseError | null }> {
    if (comm.rank === comm.size - 1) return { error: null };
    try {
      await comm.barrier();
      return { error: { name: 'none', code: undefined, rank: undefined, message: 'barrier returned without the last rank' } };
    } catch (error) {
      return { error: describeError(error) };
    }
  },
};

export type CaseName = keyof typeof communicatorCases;

/** Run a case by name (what a harness does on each rank after receiving `name` and `args`). */
export function runCase(name: CaseName, comm: Communicator, args: unknown): Promise<unknown> {
  const body = communicatorCases[name] as (comm: Communicator, args: unknown) => Promise<unknown>;
  return body(comm, args);
}
