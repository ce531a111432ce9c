// `train --paradigm federated` through the real binary: the flags, the JSON report, refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './bin.js';

const DATA = ['--data', 'synthetic:blobs?rows=600&cols=4&seed=1'];

test('train --paradigm federated reports rounds, bytes, (ε, δ) and drops in --json', () => {
  const r = run([
    'train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--lr', '0.1',
    '--paradigm', 'federated', '--clients', '12', '--fraction', '0.5', '--rounds', '4', '--local-epochs', '2',
    '--partition', 'dirichlet:0.5', '--aggregator', 'fedprox:0.01', '--dropout', '0.2', '--byzantine', '0.25:nan',
    '--clients-on', 'inline', '--target-score', '0.5', '--json',
  ]); // prettier-ignore
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { paradigm: string; metrics: { accuracy: number }; federated: Record<string, unknown> };
  assert.equal(report.paradigm, 'federated');
  const f = report.federated;
  assert.equal(f['rounds'], 4);
  assert.equal(f['epsilon'], null);
  assert.equal(f['delta'], null);
  assert.ok((f['bytesUp'] as number) > 0 && (f['bytesDown'] as number) > 0);
  assert.ok((f['dropped'] as number) > 0, 'NaN and dropped-out clients are counted');
  assert.equal(typeof f['roundsToTarget'], 'number');
  assert.ok(report.metrics.accuracy > 0.5, String(report.metrics.accuracy));
});

test('federated flags are refused under another paradigm, and bad values name the flag', () => {
  const other = run(['train', 'logistic-regression', ...DATA, '--paradigm', 'threads', '--rounds', '3']);
  assert.equal(other.status, 2);
  assert.match(other.stderr, /--rounds is a flag of --paradigm federated/);
  const bad = run(['train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--paradigm', 'federated', '--partition', 'dirichlet:-1']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--partition 'dirichlet:-1'/);
  const aggregator = run([
    'train',
    'logistic-regression',
    ...DATA,
    '--solver',
    'sgd',
    '--paradigm',
    'federated',
    '--aggregator',
    'bulyan:2',
  ]);
  assert.equal(aggregator.status, 2);
  assert.match(aggregator.stderr, /unknown aggregator 'bulyan:2'; expected one of: fedavg.*krum:<f>/);
  // Krum is registered, and refused before training when too few clients are sampled per round.
  const krum = run(['train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--paradigm', 'federated', '--aggregator', 'krum:2']);
  assert.equal(krum.status, 2);
  assert.match(krum.stderr, /krum:2 needs more than 2f \+ 2 = 6 clients per round, 1 are sampled/);
});

test('--aggregator median and --dp-clip/--dp-noise/--dp-delta from the CLI: ε per round in the text, (ε, δ) in --json', () => {
  const base = ['train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--lr', '0.1', '--paradigm', 'federated', '--clients', '10',
    '--fraction', '0.5', '--rounds', '3', '--clients-on', 'inline']; // prettier-ignore
  const dp = ['--dp-clip', '1', '--dp-noise', '1.1', '--dp-delta', '1e-5'];
  const json = run([...base, ...dp, '--json']);
  assert.equal(json.status, 0, json.stderr);
  const f = (JSON.parse(json.stdout) as { federated: { epsilon: number; delta: number } }).federated;
  assert.ok(f.epsilon > 0 && Number.isFinite(f.epsilon), String(f.epsilon));
  assert.equal(f.delta, 1e-5);
  const text = run([...base, ...dp, '--dp-mode', 'server']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /round 1: ε = [0-9.]+, δ = 0\.00001\n[^]*round 3: ε = /);
  const median = run([...base, '--aggregator', 'median', '--json']);
  assert.equal(median.status, 0, median.stderr);
  assert.equal((JSON.parse(median.stdout) as { federated: { aggregator: string } }).federated.aggregator, 'median');
  const partial = run([...base, '--dp-clip', '1']);
  assert.equal(partial.status, 2);
  assert.match(partial.stderr, /needs all of --dp-clip C --dp-noise σ --dp-delta δ/);
});

test('--compression compresses the clients’ uploads (bytes in --json); --client-error-feedback off; refused with --secure-aggregation', () => {
  const base = ['train', 'logistic-regression', ...DATA, '--solver', 'sgd', '--lr', '0.1', '--paradigm', 'federated', '--clients', '6',
    '--fraction', '0.5', '--rounds', '2', '--clients-on', 'inline', '--json']; // prettier-ignore
  type Report = { federated: { bytesUp: number; bytesDown: number; compression?: { codec: string; errorFeedback: boolean } } };
  const dense = run(base);
  const sparse = run([...base, '--compression', 'topk16:0.2', '--client-error-feedback', 'off']);
  assert.equal(dense.status, 0, dense.stderr);
  assert.equal(sparse.status, 0, sparse.stderr);
  const [d, s] = [(JSON.parse(dense.stdout) as Report).federated, (JSON.parse(sparse.stdout) as Report).federated];
  assert.deepEqual(s.compression, { codec: 'topk16:0.2', errorFeedback: false });
  assert.ok(s.bytesUp < d.bytesUp, `${s.bytesUp} vs ${d.bytesUp}`);
  assert.equal(s.bytesDown, d.bytesDown, 'downloads stay dense');
  const secure = run([...base, '--compression', 'fp16', '--secure-aggregation']);
  assert.equal(secure.status, 2);
  assert.match(secure.stderr, /--compression fp16 and --secure-aggregation cannot be combined/);
  const bad = run([...base, '--compression', 'fp16', '--client-error-feedback', 'maybe']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--client-error-feedback expects on or off, got 'maybe'/);
});
