/**
 * Secure aggregation's communication cost (issue 16): bytes one client sends and receives in a round
 * of the protocol, counted from the real messages of an in-process round with simulated clients, over
 * the bytes of the same vector sent in the clear as float32 (4 bytes per value; as float64 the ratio
 * halves). Bonawitz et al. 2017 report 1.73× at 2^10 clients; the goal here is ≤ 2×.
 *
 *   node dist/bench/secagg.js [--length 100000] [--clients 16,32,64,128] [--formula 256,512,1024]
 *
 * Real rounds for `--clients` (their computation grows as n² L: every client expands n − 1 masks),
 * the size formula (messages.ts `bytesPerClient`, checked equal to the real messages) for the larger
 * `--formula` counts. Wall time is reported with the load average; it is not the point of the figure.
 * Writes bench/results/secagg.json. Not run by the tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Rng } from '../src/core/rng.js';
import { bytesPerClient, majorityThreshold, runSecAggRound } from '../src/federated/secagg/index.js';

function argument(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index === -1 ? fallback : process.argv[index + 1]!;
}

const length = Number(argument('length', '100000'));
const real = argument('clients', '16,32,64,128').split(',').map(Number);
const formula = argument('formula', '256,512,1024').split(',').map(Number);
const plaintext = 4 * length;
const records: Record<string, unknown>[] = [];

for (const clients of real) {
  const rng = new Rng(clients);
  const inputs = new Map(Array.from({ length: clients }, (_, c) => [c, Float64Array.from({ length }, () => 0.01 * rng.normal())]));
  const started = performance.now();
  const outcome = runSecAggRound({ parameters: { round: 0, vectorLength: length, threshold: majorityThreshold(clients) }, inputs });
  const seconds = (performance.now() - started) / 1000;
  const { sent, received } = outcome.bytes.get(0)!;
  const expected = bytesPerClient(clients, length);
  if (sent !== expected.sent || received !== expected.received)
    throw new Error(`measured ${sent}/${received}, formula ${expected.sent}/${expected.received}`);
  const record = {
    clients,
    length,
    source: 'measured',
    sent,
    received,
    ratio: (sent + received) / plaintext,
    uploadRatio: sent / plaintext,
    seconds,
    load: loadavg()[0],
  };
  records.push(record);
  console.log(JSON.stringify(record));
}
for (const clients of formula) {
  const { sent, received } = bytesPerClient(clients, length);
  const record = {
    clients,
    length,
    source: 'formula',
    sent,
    received,
    ratio: (sent + received) / plaintext,
    uploadRatio: sent / plaintext,
  };
  records.push(record);
  console.log(JSON.stringify(record));
}
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/secagg.json', `${JSON.stringify({ plaintextBytes: plaintext, records }, null, 1)}\n`);
