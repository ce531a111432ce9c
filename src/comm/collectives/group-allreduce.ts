/**
 * A sum all-reduce among a subset of ranks, built on point-to-point `send`/`recv` of the
 * Communicator interface (the transports' own collectives always span the whole world). The hybrid
 * pipeline needs it: the R replicas of one stage sum that stage's gradients while the other stages
 * do the same among their own replicas.
 *
 * Algorithm: reduce to the group's smallest rank, then send the result back. The leader adds the
 * members' buffers in ascending rank order (((b0 + b1) + b2) + …), the order communicator.ts asks of
 * every collective, and every member ends with the leader's bytes — so replicas stay bitwise
 * identical. Bytes per call: (R − 1)·n·8 into the leader and as many out; a ring would spread that
 * load, but R is 2–4 on the machines this runs on and the leader's link is not the bottleneck
 * there (the stage boundary's activations are).
 *
 * Disjoint groups may run at the same time: `recv(from)` reads the stream of one sender, and no two
 * groups share a pair of ranks.
 *
 * @example
 * await groupAllReduce(comm, [1, 3], gradient); // ranks 1 and 3 both call it; others do not
 */
import type { Communicator } from '../communicator.js';
import { CommError } from '../../core/errors.js';

const TAG = 'group-allreduce';

export async function groupAllReduce(comm: Communicator, members: readonly number[], buffer: Float64Array): Promise<void> {
  const ranks = [...members].sort((a, b) => a - b);
  if (!ranks.includes(comm.rank)) throw new RangeError(`groupAllReduce: rank ${comm.rank} is not in the group [${ranks.join(', ')}]`);
  if (ranks.length === 1) return;
  const leader = ranks[0]!;
  if (comm.rank !== leader) {
    await comm.send(leader, { tag: TAG, arrays: [buffer] });
    buffer.set(await expect(comm, leader, buffer.length));
    return;
  }
  for (const member of ranks.slice(1)) {
    const part = await expect(comm, member, buffer.length);
    for (let i = 0; i < buffer.length; i++) buffer[i]! += part[i]!;
  }
  await Promise.all(ranks.slice(1).map((member) => comm.send(member, { tag: TAG, arrays: [buffer] })));
}

async function expect(comm: Communicator, from: number, length: number): Promise<Float64Array> {
  const message = await comm.recv(from);
  const array = message.arrays?.[0];
  if (message.tag !== TAG || !(array instanceof Float64Array) || array.length !== length) {
    throw new CommError(
      'COMM',
      `groupAllReduce: expected a '${TAG}' message of ${length} float64 values from rank ${from}, got '${message.tag}' with ${array?.length ?? 0}; every member must call it with the same length at the same point`,
      { rank: from },
    );
  }
  return array;
}
