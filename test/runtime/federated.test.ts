import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import '../../src/index.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { clientSeed } from '../../src/federated/sampling.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { caseData, modelCases } from './model-cases.js';

const binary = caseData('binary');
const multiclass = caseData('multiclass');

async function federated(
  name: string,
  params: Record<string, unknown>,
  data = multiclass,
  options: FederatedOptions = {},
): Promise<AnyEstimator> {
  return createModel(name, params).fit(data, { paradigm: 'federated', federated: { placement: 'inline', ...options } });
}

test('FedAvg with one client, full participation and one local epoch is the sequential fit (the reference)', async () => {
  const params = { solver: 'sgd', epochs: 3, batchSize: 32, lr: 0.1 };
  const fed = await federated('logistic-regression', params, binary, { clients: 1, fraction: 1, rounds: 1, localEpochs: 1 });
  // The client trains one epoch with its seed of round 1; the sequential reference does the same.
  const reference = await createModel('logistic-regression', { ...params, epochs: 1, seed: clientSeed(0, 1, 0) }).fit(binary);
  const a = fed.state as { weights: Float64Array; intercepts: Float64Array };
  const b = reference.state as { weights: Float64Array; intercepts: Float64Array };
  assert.deepEqual(Array.from(a.weights), Array.from(b.weights));
  assert.deepEqual(Array.from(a.intercepts), Array.from(b.intercepts));
  assert.ok(fed.score(binary) > 0.8);
  const info = fed.fitInfo!.federated!;
  assert.equal(info.rounds, 1);
  // One client, one round: the global weights went down once, the delta came up once; both are the
  // 5 parameters as float64 plus the message envelope.
  assert.ok(info.bytesDown > 40 && info.bytesDown < 400 && info.bytesUp > 40 && info.bytesUp < 400, `${info.bytesDown} ${info.bytesUp}`);
  assert.equal(info.epsilon, null);
});

test('every model that trains by gradient trains federated, with no model code of its own', async () => {
  for (const c of modelCases().filter((c) => c.batches === true && c.data !== 'regression')) {
    const data = caseData(c.data);
    const neural = ['mlp', 'cnn', 'rnn'].includes(c.name);
    const params = neural ? { ...c.params, lr: 0.01 } : c.params;
    const model = await federated(c.name, params, data, {
      clients: 6,
      fraction: 0.5,
      rounds: 4,
      partition: 'dirichlet:0.5',
      localEpochs: 2,
    });
    assert.equal(model.fitInfo!.federated!.rounds, 4, c.label);
    assert.ok(model.score(data) > 0.45, `${c.name} ${c.label} (chance ≤ 0.34): ${model.score(data)}`);
  }
  const regression = caseData('regression');
  const linear = await federated('linear-regression', { solver: 'sgd', lr: 0.05 }, regression, { clients: 4, fraction: 1, rounds: 5 });
  assert.ok(linear.score(regression) > 0.5, `R² ${linear.score(regression)}`);
  await assert.rejects(federated('logistic-regression', {}, binary, { clients: 2 }), /did not train by mini-batch SGD/);
});

test('dropouts and a round deadline complete the rounds, counting the dropped clients', async () => {
  const params = { hidden: [8], epochs: 1, batchSize: 16, precision: 'float64' };
  const dropping = await federated('mlp', params, multiclass, { clients: 20, fraction: 0.5, rounds: 4, dropout: 0.3, seed: 2 });
  const info = dropping.fitInfo!.federated!;
  assert.equal(info.rounds, 4);
  assert.ok(info.droppedBy.dropout > 0, 'some clients dropped out');
  for (const round of info.history) assert.equal(round.participants + round.dropped, 10);
  // Every client straggles past the deadline: the rounds complete with no update, the model stays at its start.
  const late = await federated('mlp', params, multiclass, {
    clients: 4,
    fraction: 1,
    rounds: 2,
    stragglers: { fraction: 1, delayMs: 300 },
    deadlineMs: 100,
  });
  const lateInfo = late.fitInfo!.federated!;
  assert.equal(lateInfo.rounds, 2);
  assert.equal(lateInfo.droppedBy.deadline, 8);
  const untrained = await federated('mlp', params, multiclass, { clients: 4, fraction: 1, rounds: 1, dropout: 0.999999 });
  assert.deepEqual(
    Array.from((late.state as { params: Float64Array }).params),
    Array.from((untrained.state as { params: Float64Array }).params),
  );
});

test('NaN updates never reach the model; ×−10 updates do (fedavg is not robust)', async () => {
  const params = { hidden: [8], epochs: 1, batchSize: 16, precision: 'float64', lr: 0.01 };
  const options: FederatedOptions = { clients: 10, fraction: 1, rounds: 3, seed: 1 };
  const clean = await federated('mlp', params, multiclass, options);
  const poisoned = await federated('mlp', params, multiclass, { ...options, byzantine: '0.3:nan' });
  const info = poisoned.fitInfo!.federated!;
  assert.equal(info.droppedBy.nonFinite, 9, '3 NaN clients × 3 rounds');
  assert.ok((poisoned.state as { params: Float64Array }).params.every(Number.isFinite));
  assert.ok(poisoned.score(multiclass) > 0.6 && clean.score(multiclass) > 0.6, `${poisoned.score(multiclass)} ${clean.score(multiclass)}`);
  const scaled = await federated('mlp', params, multiclass, { ...options, byzantine: '0.3:scale:-10' });
  assert.equal(scaled.fitInfo!.federated!.droppedBy.nonFinite, 0);
  assert.notDeepEqual(
    Array.from((scaled.state as { params: Float64Array }).params),
    Array.from((clean.state as { params: Float64Array }).params),
  );
});

test('simulated clients on worker threads give the inline model; FedBuff’s asynchronous mode steps every buffer', async () => {
  const params = { hidden: [8], epochs: 1, batchSize: 16, precision: 'float64' };
  const options: FederatedOptions = { clients: 8, fraction: 0.5, rounds: 2, partition: 'shards:2', aggregator: 'fedavgm' };
  const inline = await federated('mlp', params, multiclass, options);
  const threads = await federated('mlp', params, multiclass, { ...options, placement: 'threads', workers: 2 });
  assert.deepEqual(
    Array.from((threads.state as { params: Float64Array }).params),
    Array.from((inline.state as { params: Float64Array }).params),
  );
  assert.equal(threads.fitInfo!.federated!.bytesUp, inline.fitInfo!.federated!.bytesUp);
  const buffered = await federated('mlp', params, multiclass, {
    clients: 10,
    fraction: 0.4,
    rounds: 5,
    async: true,
    buffer: 2,
    aggregator: 'fedadam',
  });
  const info = buffered.fitInfo!.federated!;
  assert.equal(info.mode, 'async');
  assert.equal(info.rounds, 5);
  assert.ok(info.history.every((round) => round.participants === 2));
  assert.ok((buffered.state as { params: Float64Array }).params.every(Number.isFinite));
});

/** Pids of this process's federated client processes. */
function clientProcesses(): number[] {
  const lines = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n');
  return lines.filter((line) => line.includes('federated-worker')).map((line) => Number(line.trim().split(/\s+/)[0]));
}

test('a real client process killed mid-round is dropped and the round completes', async () => {
  const params = { hidden: [8], epochs: 1, batchSize: 16, precision: 'float64' };
  let killed = 0;
  const model = await federated('mlp', params, multiclass, {
    placement: 'processes',
    workers: 2,
    clients: 4,
    fraction: 1,
    rounds: 2,
    // Each client answers 400 ms after training: round 2 is under way when round 1 is reported.
    stragglers: { fraction: 1, delayMs: 400 },
    deadlineMs: 10_000,
    onRound: (report) => {
      if (report.round !== 1) return;
      const pids = clientProcesses();
      assert.equal(pids.length, 2);
      process.kill(pids[0]!, 'SIGKILL');
      killed = pids[0]!;
    },
  });
  assert.ok(killed > 0);
  const info = model.fitInfo!.federated!;
  assert.equal(info.rounds, 2);
  assert.equal(info.history[0]!.participants, 4);
  assert.equal(info.history[1]!.participants, 2, 'the two clients of the surviving process');
  assert.equal(info.droppedBy.lost + info.droppedBy.deadline, 2);
  assert.ok(info.bytesUp > 0 && info.bytesDown > info.bytesUp / 2, `${info.bytesUp} ${info.bytesDown}`);
  assert.ok((model.state as { params: Float64Array }).params.every(Number.isFinite));
});
