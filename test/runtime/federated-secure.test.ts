// Secure aggregation across a process boundary (runtime/federated-secure.ts, federated-secure-client.ts):
// each client's side of the protocol runs in the child process that trains it, and the server
// process is audited message by message (FederatedOptions.onServerReceive) for what it holds.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import type { Message } from '../../src/comm/communicator.js';
import { Rng } from '../../src/core/rng.js';
import { fromCommMessage } from '../../src/federated/secagg/comm-message.js';
import { generateKeyPair, seededRandomSource } from '../../src/federated/secagg/crypto.js';
import { quantize } from '../../src/federated/secagg/fixed-point.js';
import { decode } from '../../src/federated/secagg/messages.js';
import type { Message as SecAggMessage } from '../../src/federated/secagg/messages.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { secureFixedPoint } from '../../src/runtime/federated-secure.js';
import { caseData } from './model-cases.js';

const train = caseData('multiclass', 1000);
const mlp = { hidden: [256], epochs: 1, batchSize: 32, precision: 'float64', seed: 1 };
const SECRET_SEED = 0x5ec;

interface Received {
  client: number;
  message: Message;
}

async function fit(options: FederatedOptions, received: Received[]): Promise<AnyEstimator> {
  return createModel('mlp', mlp).fit(train, {
    paradigm: 'federated',
    federated: {
      placement: 'processes',
      workers: 2,
      clients: 10,
      fraction: 1,
      rounds: 1,
      dropout: 0.3,
      seed: 3,
      ...options,
      onServerReceive: (client, message) =>
        received.push({
          client,
          message: {
            ...message,
            arrays: (message.arrays ?? []).map((array) => array.slice()),
            bytes: (message.bytes ?? []).map((frame) => frame.slice()),
          },
        }),
    },
  });
}

const weightsOf = (model: AnyEstimator): Float64Array => (model.state as { params: Float64Array }).params;

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

test('processes hosts: the server process receives only SecAgg protocol messages, never an unmasked update nor a client secret; 30% dropout after sharing keys still gives the plaintext sum', async () => {
  const plainReceived: Received[] = [];
  const plain = await fit({}, plainReceived);
  const secureReceived: Received[] = [];
  const secure = await fit({ secureAggregation: true, secureSecretSeed: SECRET_SEED }, secureReceived);

  // Plaintext: the server holds each participant's delta (the reference the audit looks for).
  const updates = new Map<number, { delta: Float64Array; weight: number }>();
  for (const { client, message } of plainReceived) {
    assert.equal(message.tag, 'update');
    updates.set(client, { delta: message.arrays![0] as Float64Array, weight: (message.header as { weight: number }).weight });
  }
  assert.equal(updates.size, 7, 'plain fedavg: 7 of 10 clients, 3 seeded dropouts');

  // Secure: every message is a protocol message; decode them all.
  const byKind = new Map<string, { client: number; message: SecAggMessage; bytes: Uint8Array }[]>();
  let left = 0;
  for (const { client, message } of secureReceived) {
    assert.equal(message.tag, 'secagg', `client ${client} sent a '${message.tag}' message to the server`);
    const header = message.header as { status: string; round: number };
    assert.notEqual(header.status, 'failed');
    if (header.status === 'left') {
      left++;
      continue;
    }
    assert.equal(header.status, 'message');
    const bytes = fromCommMessage(message, { from: client, round: header.round, phase: 'advertise' });
    const decoded = decode(bytes);
    assert.equal(decoded.sender, client);
    const list = byKind.get(decoded.kind) ?? [];
    list.push({ client, message: decoded, bytes });
    byKind.set(decoded.kind, list);
  }
  assert.deepEqual([...byKind.keys()].sort(), ['advertise', 'masked-input', 'shares', 'unmask']);
  assert.equal(byKind.get('advertise')!.length, 10, 'every sampled client advertised keys');
  assert.equal(byKind.get('shares')!.length, 10, 'every sampled client shared its seeds');
  assert.equal(left, 3, 'three clients left after sharing, before their masked input');
  const masked = byKind.get('masked-input')!;
  assert.deepEqual(
    masked.map((m) => m.client).sort((a, b) => a - b),
    [...updates.keys()].sort((a, b) => a - b),
  );

  // No masked input is its client's quantised input [wΔ/s, w/s], nor close to it: the masks are uniform in Z_2^32.
  const scale = train.rows / 10;
  const fixed = secureFixedPoint(10);
  for (const { client, message } of masked) {
    const { delta, weight } = updates.get(client)!;
    const input = Float64Array.from({ length: delta.length + 1 }, (_, j) =>
      j < delta.length ? (delta[j]! * weight) / scale : weight / scale,
    );
    const { ring } = quantize(input, fixed);
    const vector = (message as { vector: Uint32Array }).vector;
    let near = 0;
    for (let j = 0; j < ring.length; j++) if (Math.abs(((vector[j]! - ring[j]!) | 0) / 2 ** fixed.fractionBits) < 1) near++;
    assert.ok(near < ring.length / 100, `client ${client}: ${near} of ${ring.length} masked values within 1 of its input`);
  }

  // The clients' secrets, recomputed from the test-only seed: the public keys are what was advertised
  // (so the derivation is right), and no private key nor self-mask seed is in any byte the server received.
  const everything = secureReceived.map(({ client, message }) => {
    const header = message.header as { round: number; status: string };
    return header.status === 'message'
      ? fromCommMessage(message, { from: client, round: header.round, phase: 'advertise' })
      : new Uint8Array();
  });
  for (let client = 0; client < 10; client++) {
    const random = seededRandomSource(new Rng(SECRET_SEED).fork(1).fork(client));
    const channel = generateKeyPair(random);
    const mask = generateKeyPair(random);
    const selfSeed = random(32);
    const advertised = byKind.get('advertise')!.find((m) => m.client === client)!.message as {
      keys: { channel: Uint8Array; mask: Uint8Array };
    };
    assert.deepEqual(advertised.keys.channel, channel.publicKey);
    assert.deepEqual(advertised.keys.mask, mask.publicKey);
    for (const bytes of everything)
      for (const [what, secret] of [
        ['channel private key', channel.privateKey],
        ['mask private key', mask.privateKey],
        ['self-mask seed', selfSeed],
      ] as const)
        assert.ok(!contains(bytes, secret), `the server received client ${client}'s ${what}`);
  }
  // Unmasking: per client, the self-mask share if it survived, the mask-key share if it left; never both.
  const survivors = new Set(masked.map((m) => m.client));
  for (const { message } of byKind.get('unmask')!)
    for (const share of (message as { shares: { about: number; kind: string }[] }).shares)
      assert.equal(share.kind, survivors.has(share.about) ? 'self-mask' : 'mask-key');

  // The round completed with the plaintext sum: the same FedAvg step within the fixed-point precision.
  const a = weightsOf(plain);
  const b = weightsOf(secure);
  const gap = Math.max(...a.map((v, j) => Math.abs(v - b[j]!)));
  assert.ok(gap < 1e-6, `largest weight difference ${gap}`);
  const info = secure.fitInfo!.federated!;
  assert.deepEqual(
    info.history.map((r) => [r.participants, r.dropped]),
    [[7, 3]],
  );
  const perClientSecure = info.bytesUp / 10; // all 10 sampled clients sent protocol messages
  const perClientPlain = plain.fitInfo!.federated!.bytesUp / 7;
  assert.ok(perClientSecure <= 2 * perClientPlain, `SecAgg ${perClientSecure} bytes up per client vs plaintext ${perClientPlain}`);
  console.log(
    `processes, ${a.length} parameters, 10 clients, 3 left after sharing: weight gap ${gap.toExponential(2)}; bytes up per client SecAgg ${perClientSecure.toFixed(0)} vs plaintext ${perClientPlain.toFixed(0)} (${(perClientSecure / perClientPlain).toFixed(3)}×)`,
  );
});

test('a client process killed after sharing its keys: its clients are dropped by the protocol (their pairwise masks removed) and the step is the FedAvg of exactly the others', async () => {
  const small = { hidden: [16], epochs: 1, batchSize: 32, precision: 'float64', seed: 1 };
  const options: FederatedOptions = { placement: 'processes', workers: 3, clients: 9, fraction: 1, rounds: 1, seed: 5, deadlineMs: 20_000 };
  const updates = new Map<number, { delta: Float64Array; weight: number }>();
  const plain = await createModel('mlp', small).fit(train, {
    paradigm: 'federated',
    federated: {
      ...options,
      onServerReceive: (client, message) =>
        updates.set(client, { delta: (message.arrays![0] as Float64Array).slice(), weight: (message.header as { weight: number }).weight }),
    },
  });
  assert.equal(updates.size, 9);
  const maskedFrom: number[] = [];
  let killed = false;
  const secure = await createModel('mlp', small).fit(train, {
    paradigm: 'federated',
    federated: {
      ...options,
      secureAggregation: true,
      onServerReceive: (client, message) => {
        const header = message.header as { status: string; round: number };
        if (header.status !== 'message') return;
        const kind = decode(fromCommMessage(message, { from: client, round: header.round, phase: 'advertise' })).kind;
        if (kind === 'masked-input') maskedFrom.push(client);
        if (kind === 'shares' && client % 3 === 0 && !killed) {
          // Client 0's process (rank 1 hosts clients 0, 3, 6) dies once the server has its first shares.
          killed = true;
          process.kill(childPids()[0]!, 'SIGKILL');
        }
      },
    },
  });
  assert.ok(killed);
  const info = secure.fitInfo!.federated!;
  const included = [...new Set(maskedFrom)].sort((a, b) => a - b);
  assert.deepEqual(included, [1, 2, 4, 5, 7, 8], 'the clients of the two live processes');
  assert.equal(info.history[0]!.participants, included.length);
  assert.equal(info.droppedBy.lost + info.droppedBy.deadline, 9 - included.length);
  // The plaintext step over the included clients, from the plaintext fit's starting point.
  const mean = (clients: number[]): Float64Array => {
    const total = clients.reduce((sum, c) => sum + updates.get(c)!.weight, 0);
    const out = new Float64Array(updates.get(0)!.delta.length);
    for (const c of clients) updates.get(c)!.delta.forEach((v, j) => (out[j]! += (v * updates.get(c)!.weight) / total));
    return out;
  };
  const all = mean([...updates.keys()]);
  const some = mean(included);
  const expected = weightsOf(plain).map((v, j) => v - all[j]! + some[j]!);
  const gap = Math.max(...weightsOf(secure).map((v, j) => Math.abs(v - expected[j]!)));
  assert.ok(gap < 1e-6, `largest difference from FedAvg over clients ${included.join(', ')}: ${gap}`);
});

/** Pids of this process's federated client processes, in rank order (forked in that order). */
function childPids(): number[] {
  const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n');
  return lines
    .filter((line) => line.includes('federated-worker'))
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .sort((a, b) => a - b);
}
