import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import {
  bytesPerClient,
  decode,
  encode,
  quantize,
  runSecAggRound,
  SecAggClient,
  SecAggError,
  SecAggServer,
  seededRandomSource,
  type DropPoint,
  type SecAggParameters,
} from '../../src/federated/secagg/index.js';
import { DEFAULT_FIXED_POINT } from '../../src/federated/secagg/fixed-point.js';

const LENGTH = 200;

function inputsFor(clients: number, seed: number, length = LENGTH): Map<number, Float64Array> {
  const rng = new Rng(seed);
  // ids need not be contiguous: use 3, 10, 17, ...
  return new Map(Array.from({ length: clients }, (_, c) => [3 + 7 * c, Float64Array.from({ length }, () => 4 * rng.normal())]));
}

/** Σ of the quantised inputs of `ids`, decoded: what the protocol must return exactly. */
function quantisedSum(inputs: ReadonlyMap<number, Float64Array>, ids: readonly number[]): Float64Array {
  const sum = new Float64Array(LENGTH);
  for (const id of ids) {
    const { ring } = quantize(inputs.get(id)!, DEFAULT_FIXED_POINT);
    for (let i = 0; i < LENGTH; i++) sum[i]! += ring[i]! | 0;
  }
  return sum.map((v) => v / 2 ** DEFAULT_FIXED_POINT.fractionBits);
}

function plainSum(inputs: ReadonlyMap<number, Float64Array>, ids: readonly number[]): Float64Array {
  const sum = new Float64Array(LENGTH);
  for (const id of ids) inputs.get(id)!.forEach((v, i) => (sum[i]! += v));
  return sum;
}

const maxGap = (a: Float64Array, b: Float64Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

function checkSum(inputs: Map<number, Float64Array>, included: number[], sum: Float64Array): void {
  assert.deepEqual(sum, quantisedSum(inputs, included), 'the sum of the quantised inputs, exactly');
  // and within the fixed-point precision of the real sum: each client rounds by at most 2^-17
  assert.ok(maxGap(sum, plainSum(inputs, included)) <= included.length * 2 ** -17);
}

test('with every client finishing, the server gets the exact sum of the quantised inputs', () => {
  const inputs = inputsFor(8, 1);
  const outcome = runSecAggRound({ parameters: { round: 7, vectorLength: LENGTH, threshold: 5 }, inputs, seed: 11 });
  assert.deepEqual(outcome.included, [...inputs.keys()]);
  assert.deepEqual(outcome.dropped, []);
  checkSum(inputs, outcome.included, outcome.sum);
});

test('30% of clients dropping after sharing keys (their pairwise masks are in the others’ inputs): the round completes with the survivors’ exact sum', () => {
  const inputs = inputsFor(10, 2);
  const ids = [...inputs.keys()];
  const dropouts = new Map<number, DropPoint>(ids.slice(0, 3).map((id) => [id, 'masked-input']));
  const outcome = runSecAggRound({ parameters: { round: 1, vectorLength: LENGTH, threshold: 6 }, inputs, dropouts, seed: 12 });
  assert.deepEqual(outcome.dropped, ids.slice(0, 3));
  assert.deepEqual(outcome.included, ids.slice(3));
  checkSum(inputs, outcome.included, outcome.sum);
});

test('30% of clients dropping after sending their masked inputs: their self masks are removed from the others’ shares and their inputs count', () => {
  const inputs = inputsFor(10, 3);
  const ids = [...inputs.keys()];
  const dropouts = new Map<number, DropPoint>([ids[1]!, ids[4]!, ids[8]!].map((id) => [id, 'unmask']));
  const outcome = runSecAggRound({ parameters: { round: 2, vectorLength: LENGTH, threshold: 6 }, inputs, dropouts, seed: 13 });
  assert.deepEqual(outcome.included, ids);
  checkSum(inputs, ids, outcome.sum);
});

test('a client dropping before sharing its keys is excluded cleanly; dropouts at every phase combine', () => {
  const inputs = inputsFor(12, 4);
  const ids = [...inputs.keys()];
  const dropouts = new Map<number, DropPoint>([
    [ids[0]!, 'share'],
    [ids[5]!, 'share'],
    [ids[2]!, 'masked-input'],
    [ids[7]!, 'unmask'],
  ]);
  const outcome = runSecAggRound({ parameters: { round: 3, vectorLength: LENGTH, threshold: 7 }, inputs, dropouts, seed: 14 });
  const included = ids.filter((id) => id !== ids[0] && id !== ids[5] && id !== ids[2]);
  assert.deepEqual(outcome.included, included);
  assert.deepEqual(outcome.dropped, [ids[0], ids[2], ids[5]]);
  checkSum(inputs, included, outcome.sum);
});

test('the server never holds an individual unmasked update, never learns both secrets of one client, and refuses a masked input that arrives after the survivors list', () => {
  const inputs = inputsFor(8, 5);
  const ids = [...inputs.keys()];
  const parameters: SecAggParameters = { round: 4, vectorLength: LENGTH, threshold: 5 };
  const rng = new Rng(15);
  const clients = new Map(ids.map((id) => [id, new SecAggClient(id, parameters, { random: seededRandomSource(rng.fork(id)) })]));
  const server = new SecAggServer(parameters);
  const quantised = ids.map((id) => quantize(inputs.get(id)!, DEFAULT_FIXED_POINT).ring);
  const received: Uint8Array[] = [];
  /** Every vector the server holds after each message must look nothing like any client's quantised input. */
  const audit = (): void => {
    for (const held of server.heldVectors())
      for (const ring of quantised) {
        const same = ring.reduce((count, v, i) => count + (v === held[i] ? 1 : 0), 0);
        assert.ok(same <= 2, `the server holds a vector equal to a client's input in ${same} of ${LENGTH} places`);
      }
  };
  const deliver = (id: number, bytes: Uint8Array): void => {
    received.push(bytes);
    server.receive(id, bytes);
    audit();
  };
  for (const [id, client] of clients) {
    client.setInput(inputs.get(id)!);
    deliver(id, client.handle(null));
  }
  for (const [id, bytes] of server.close()) deliver(id, clients.get(id)!.handle(bytes));
  const late = ids[6]!;
  let lateInput: Uint8Array | undefined;
  for (const [id, bytes] of server.close()) {
    const answer = clients.get(id)!.handle(bytes);
    if (id === late) lateInput = answer;
    else deliver(id, answer);
  }
  const survivorsMessages = server.close();
  // the late client's masked input arrives now: refused, and the server's sum is untouched
  const before = server.heldVectors();
  assert.throws(
    () => server.receive(late, lateInput!),
    (error: unknown) =>
      error instanceof SecAggError &&
      error.client === late &&
      error.phase === 'unmask' &&
      /masked-input message during the unmask phase/.test(error.message),
  );
  assert.deepEqual(server.heldVectors(), before);
  for (const [id, bytes] of survivorsMessages) deliver(id, clients.get(id)!.handle(bytes));
  server.close();
  const included = ids.filter((id) => id !== late);
  assert.deepEqual(server.result().included, included);
  checkSum(inputs, included, server.result().sum);
  // masked inputs as received: no more like the inputs than random words
  for (const bytes of received) {
    const message = decode(bytes);
    if (message.kind !== 'masked-input') continue;
    const ring = quantised[ids.indexOf(message.sender)]!;
    assert.ok(ring.reduce((count, v, i) => count + (v === message.vector[i] ? 1 : 0), 0) <= 2);
  }
  // per client, every unmask message revealed the same kind of share: the self-mask seed or the mask key, never both
  const kinds = new Map<number, Set<string>>();
  for (const bytes of received) {
    const message = decode(bytes);
    if (message.kind === 'unmask')
      for (const share of message.shares) kinds.set(share.about, (kinds.get(share.about) ?? new Set()).add(share.kind));
  }
  assert.equal(kinds.size, ids.length);
  for (const [about, set] of kinds) assert.deepEqual([...set], [about === late ? 'mask-key' : 'self-mask'], `client ${about}`);
});

type Phase = 'advertise' | 'share' | 'masked-input' | 'unmask';

/** A round driven by hand until the clients have answered `phase`: `replies` holds their messages of that phase, not yet delivered. */
function roundAt(phase: Phase) {
  const inputs = inputsFor(6, 6);
  const ids = [...inputs.keys()];
  const parameters: SecAggParameters = { round: 9, vectorLength: LENGTH, threshold: 4 };
  const rng = new Rng(16);
  const clients = new Map(ids.map((id) => [id, new SecAggClient(id, parameters, { random: seededRandomSource(rng.fork(id)) })]));
  const server = new SecAggServer(parameters);
  let replies = new Map<number, Uint8Array>();
  for (const [id, client] of clients) {
    client.setInput(inputs.get(id)!);
    replies.set(id, client.handle(null));
  }
  for (const next of ['share', 'masked-input', 'unmask'] as const) {
    if (phase === 'advertise' || (phase === 'share' && next !== 'share') || (phase === 'masked-input' && next === 'unmask')) break;
    for (const [id, bytes] of replies) server.receive(id, bytes);
    replies = new Map([...server.close()].map(([id, bytes]) => [id, clients.get(id)!.handle(bytes)]));
  }
  return { ids, clients, server, replies, victim: ids[0]! };
}

function refuses(action: () => void, client: number, pattern: RegExp): void {
  assert.throws(action, (error: unknown) => {
    assert.ok(error instanceof SecAggError, `a SecAggError, got ${String(error)}`);
    assert.equal(error.client, client);
    assert.equal(error.code, 'COMM');
    assert.equal(error.rank, client);
    assert.match(error.message, new RegExp(`client ${client}`));
    assert.match(error.message, pattern);
    return true;
  });
}

test('the server refuses malformed, forged, misplaced and repeated messages with a SecAggError naming the client', () => {
  const parameters: SecAggParameters = { round: 5, vectorLength: LENGTH, threshold: 3 };
  const server = new SecAggServer(parameters);
  const client = new SecAggClient(21, parameters, { random: seededRandomSource(new Rng(1)) });
  const advertise = client.handle(null);
  refuses(() => server.receive(21, advertise.subarray(0, 40)), 21, /malformed message: advertise has 40 bytes/);
  refuses(() => server.receive(21, new Uint8Array(100).fill(7)), 21, /not a secure aggregation message/);
  refuses(() => server.receive(22, advertise), 22, /claims to come from client 21/);
  const otherRound = new SecAggClient(23, { ...parameters, round: 6 }, { random: seededRandomSource(new Rng(2)) }).handle(null);
  refuses(() => server.receive(23, otherRound), 23, /for round 6, this is round 5/);
  refuses(
    () => server.receive(21, encode({ kind: 'masked-input', round: 5, sender: 21, vector: new Uint32Array(LENGTH) })),
    21,
    /masked-input message during the advertise phase/,
  );
  server.receive(21, advertise);
  refuses(() => server.receive(21, advertise), 21, /advertised its keys twice/);
});

test('later phases: shares that skip a peer, a masked input of the wrong length, asking for a survivor’s mask key, all refused naming the client', () => {
  const share = roundAt('share');
  const victim = share.victim;
  const good = decode(share.replies.get(victim)!);
  assert.equal(good.kind, 'shares');
  if (good.kind !== 'shares') return;
  refuses(
    () => share.server.receive(victim, encode({ ...good, envelopes: good.envelopes.slice(1) })),
    victim,
    /one share ciphertext to each of the 5 other/,
  );
  refuses(
    () => share.server.receive(victim, encode({ ...good, envelopes: [...good.envelopes.slice(1), good.envelopes[1]!] })),
    victim,
    /other or repeated/,
  );

  const masked = roundAt('masked-input');
  const input = decode(masked.replies.get(victim)!);
  assert.equal(input.kind, 'masked-input');
  if (input.kind !== 'masked-input') return;
  refuses(
    () => masked.server.receive(victim, encode({ ...input, vector: input.vector.subarray(1) })),
    victim,
    /masked input of 199 values, the round aggregates 200/,
  );

  // the unmask phase: a client revealing the mask key of a client that survived is refused
  const unmask = roundAt('unmask');
  const reply = decode(unmask.replies.get(victim)!);
  assert.equal(reply.kind, 'unmask');
  if (reply.kind !== 'unmask') return;
  const forged = reply.shares.map((s) => (s.about === unmask.ids[2] ? { ...s, kind: 'mask-key' as const } : s));
  refuses(
    () => unmask.server.receive(victim, encode({ ...reply, shares: forged })),
    victim,
    new RegExp(`mask-key share of client ${unmask.ids[2]}`),
  );
});

test('a client refuses a tampered share ciphertext and a low-order public key, naming the peer at fault', () => {
  const round = roundAt('share');
  const [victim, culprit] = [round.ids[1]!, round.ids[3]!];
  for (const [id, bytes] of round.replies) round.server.receive(id, bytes);
  const forwarded = decode(round.server.close().get(victim)!);
  assert.equal(forwarded.kind, 'forwarded');
  if (forwarded.kind !== 'forwarded') return;
  const tampered = forwarded.envelopes.map((e) =>
    e.peer === culprit ? { ...e, ciphertext: e.ciphertext.map((b, i) => (i === 40 ? b ^ 1 : b)) } : e,
  );
  refuses(
    () => round.clients.get(victim)!.handle(encode({ ...forwarded, envelopes: tampered })),
    culprit,
    /do not decrypt and authenticate/,
  );

  // an all-zero X25519 key (a low-order point): the shared secret would be zero, so agreement fails
  const parameters: SecAggParameters = { round: 1, vectorLength: 4, threshold: 2 };
  const honest = new SecAggClient(1, parameters, { random: seededRandomSource(new Rng(3)) });
  const advertise = decode(honest.handle(null));
  if (advertise.kind !== 'advertise') return;
  const roster = encode({
    kind: 'roster',
    round: 1,
    sender: 0xffffffff,
    entries: [
      { id: 1, ...advertise.keys },
      { id: 2, channel: new Uint8Array(32), mask: new Uint8Array(32).fill(1) },
    ],
  });
  refuses(() => honest.handle(roster), 2, /channel public key is not a usable X25519 key/);
});

test('too few clients for the threshold ends the round with a recoverable PEER_LOST error', () => {
  const inputs = inputsFor(5, 7);
  const ids = [...inputs.keys()];
  const dropouts = new Map<number, DropPoint>(ids.slice(0, 3).map((id) => [id, 'unmask']));
  assert.throws(
    () => runSecAggRound({ parameters: { round: 0, vectorLength: LENGTH, threshold: 3 }, inputs, dropouts, seed: 1 }),
    (error: unknown) =>
      error instanceof SecAggError &&
      error.code === 'PEER_LOST' &&
      error.recoverable &&
      /only 2 clients sent their unmasking shares, fewer than the threshold 3/.test(error.message),
  );
});

test('bytes per client: the real messages match the size formula, and the masked input dominates for a large model', () => {
  for (const clients of [3, 7]) {
    const inputs = inputsFor(clients, 8);
    const outcome = runSecAggRound({ parameters: { round: 0, vectorLength: LENGTH, threshold: 2 }, inputs, seed: 2 });
    for (const measured of outcome.bytes.values()) assert.deepEqual(measured, bytesPerClient(clients, LENGTH));
  }
  // 100k float32 parameters in the clear are 400,000 bytes
  const { sent, received } = bytesPerClient(1024, 100_000);
  assert.ok((sent + received) / 400_000 < 2, `${sent + received} bytes at 1,024 clients`);
});

test('with the default OS randomness (no seed) the round is as exact, and two runs mask differently', () => {
  const inputs = inputsFor(4, 9);
  const parameters = { round: 0, vectorLength: LENGTH, threshold: 3 };
  const seen: Uint8Array[] = [];
  const intercept = (_from: number, bytes: Uint8Array): Uint8Array => {
    if (decode(bytes).kind === 'masked-input') seen.push(bytes);
    return bytes;
  };
  for (let run = 0; run < 2; run++) {
    const outcome = runSecAggRound({ parameters, inputs, intercept });
    checkSum(inputs, outcome.included, outcome.sum);
  }
  assert.equal(seen.length, 8);
  assert.notDeepEqual(seen[0], seen[4]);
});
