/**
 * Secure aggregation with each client's side in its own client host (issue 16): bytes each client
 * sends per round and the round time, SecAgg vs plaintext FedAvg, both on real client processes
 * (`--clients-on processes`), for 10, 50 and 100 clients per round (fraction 1), 30% of them dropping
 * after sharing their keys. Round time: the mean of rounds 2.. (round 1 includes the hosts' start-up). The two modes run interleaved, `--repeats` times each; medians and
 * spreads are reported with the load average (the machine is shared).
 *
 *   node dist/bench/secagg-hosts.js [--clients 10,50,100] [--repeats 3] [--rounds 3] [--hidden 100] [--workers 2]
 *
 * Bytes: plaintext counts the ZeroMQ messages of the updates (float64 deltas, counted by the
 * transport); SecAgg counts the protocol's messages (advertise, shares, masked input as 32-bit ring
 * words, unmasking shares) per client that took part. Writes bench/results/secagg-hosts.json.
 *
 * Transport bytes (SecAgg): every message the server process receives (onServerReceive) re-encoded
 * with the ZeroMQ wire codec — what crossed the transport: byte frames, the protocol's bytes plus
 * the envelope — beside the same message as it travelled before byte frames (packed 6 bytes per
 * float64 word, 4/3: the old comm-message.ts encoding, recomputed from each message's byte count).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import '../src/index.js';
import { loadData } from '../src/data/load.js';
import { createModel } from '../src/models/registry.js';
import type { Message } from '../src/comm/communicator.js';
import { encodeMessage, PROTOCOL_VERSION, wireBytes } from '../src/comm/zmq/wire.js';

/** A received message's bytes on the wire now (byte frames), and as the float64-packed words it was before. */
function transportBytes(message: Message): { now: number; packed: number } {
  const envelope = { v: PROTOCOL_VERSION, k: 'user' as const, tag: message.tag, h: message.header ?? {} };
  const now = wireBytes(encodeMessage(envelope, message.arrays ?? [], message.bytes ?? []));
  const length = (message.bytes ?? []).reduce((sum, frame) => sum + frame.byteLength, 0);
  const packed = wireBytes(encodeMessage(envelope, [...(message.arrays ?? []), new Float64Array(Math.ceil(length / 6))]));
  return { now, packed };
}

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
}

const counts = argument('clients', '10,50,100').split(',').map(Number);
const repeats = Number(argument('repeats', '3'));
const rounds = Math.max(2, Number(argument('rounds', '3')));
const hidden = Number(argument('hidden', '100'));
const workers = Number(argument('workers', '2'));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

const records: Record<string, unknown>[] = [];
for (const clients of counts) {
  const { train } = await loadData(`synthetic:classification?rows=${40 * clients}&cols=50&seed=5`);
  const runs: Record<'plain' | 'secure', { perClientUp: number; roundMs: number; load: number; transportUp: number; packedUp: number }[]> =
    {
      plain: [],
      secure: [],
    };
  let parameters = 0;
  for (let repeat = 0; repeat < repeats; repeat++) {
    for (const mode of repeat % 2 === 0 ? (['plain', 'secure'] as const) : (['secure', 'plain'] as const)) {
      const transport = { now: 0, packed: 0 };
      const model = await createModel('mlp', { hidden: [hidden], epochs: 1, batchSize: 20, precision: 'float64', seed: 1 }).fit(train, {
        paradigm: 'federated',
        federated: {
          placement: 'processes',
          workers,
          clients,
          fraction: 1,
          rounds,
          dropout: 0.3,
          seed: 7,
          secureAggregation: mode === 'secure',
          onServerReceive: (_client, message) => {
            const sizes = transportBytes(message);
            transport.now += sizes.now;
            transport.packed += sizes.packed;
          },
        },
      });
      const info = model.fitInfo!.federated!;
      parameters = (model.state as { params: Float64Array }).params.length;
      // Plaintext: the clients that sent an update; SecAgg: every sampled client sent protocol messages.
      const senders = mode === 'plain' ? info.history.reduce((sum, r) => sum + r.participants, 0) : clients * info.rounds;
      // Rounds after the first: the hosts' start-up (forking, joining) is in round 1's time.
      const elapsed = info.history.map((r) => r.elapsedMs);
      const roundMs = (elapsed[elapsed.length - 1]! - elapsed[0]!) / (elapsed.length - 1);
      runs[mode].push({
        perClientUp: info.bytesUp / senders,
        roundMs,
        load: loadavg()[0]!,
        transportUp: transport.now / senders,
        packedUp: transport.packed / senders,
      });
    }
  }
  const summary = (mode: 'plain' | 'secure'): Record<string, number> => {
    const times = runs[mode].map((r) => r.roundMs);
    return {
      perClientUpBytes: median(runs[mode].map((r) => r.perClientUp)),
      transportUpBytes: median(runs[mode].map((r) => r.transportUp)),
      float64PackedUpBytes: median(runs[mode].map((r) => r.packedUp)),
      roundMsMedian: median(times),
      roundMsMin: Math.min(...times),
      roundMsMax: Math.max(...times),
    };
  };
  const plain = summary('plain');
  const secure = summary('secure');
  const record = {
    clientsPerRound: clients,
    parameters,
    rounds,
    workers,
    plain,
    secure,
    bytesRatio: secure['perClientUpBytes']! / plain['perClientUpBytes']!,
    // Against the update as bare float32 values (4 bytes each), the smallest plaintext encoding.
    bytesRatioFloat32: secure['perClientUpBytes']! / (4 * parameters),
    timeRatio: secure['roundMsMedian']! / plain['roundMsMedian']!,
    load: Math.max(...[...runs.plain, ...runs.secure].map((r) => r.load)),
  };
  records.push(record);
  console.log(JSON.stringify(record));
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/secagg-hosts.json', `${JSON.stringify({ records }, null, 1)}\n`);
