// The comparison's federated cells (issue 16, claim 'federated-privacy' C10): validated matrix sets,
// a real compare run of a tiny federated pair whose rounds and bytes to target are stored (NULL when
// the target was not reached within the cap) and read by the claim and the report, and the store's
// migration from schema version 6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import '../../src/index.js';
import { evaluateClaims } from '../../src/compare/claims.js';
import { loadSession, resumeCompare, runCompare } from '../../src/compare/compare.js';
import { expandFederated, parseFederatedList } from '../../src/compare/federated-cells.js';
import type { FederatedResult } from '../../src/compare/federated-run.js';
import { failedFederated } from '../../src/compare/federated-run.js';
import { defaultMatrix, parseMatrix } from '../../src/compare/matrix.js';
import { resolveMatrix } from '../../src/compare/matrix-file.js';
import { renderReport } from '../../src/compare/report.js';
import { ResultsStore, SCHEMA_VERSION } from '../../src/compare/store.js';
import { ConfigError } from '../../src/core/errors.js';
import { session } from './records.js';

const DATA = 'synthetic:classification?rows=1200&cols=6&seed=2';
// Logistic regression by SGD, 4 clients, 2 a round: each round's fit is milliseconds.
const SET = {
  model: 'logistic-regression',
  params: { solver: 'sgd', epochs: 3, lr: 0.1 },
  data: DATA,
  target: 0.7,
  rounds: 6,
  aggregators: ['fedavg'],
  partitions: ['iid'],
  clients: [4],
  fractions: [0.5],
  localEpochs: [2],
};

function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-fedcells-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

test('federated sets are validated as the paradigm would, naming the field at fault, and multiply into cells', async () => {
  const bad: [unknown, RegExp][] = [
    [{ ...SET, aggregators: ['fedmagic'] }, /federated\[0\].*fedmagic/],
    [{ ...SET, partitions: ['dirichlet:-1'] }, /federated\[0\]/],
    [{ ...SET, target: 2 }, /federated\[0\]\.target.*\(0, 1\]/],
    [{ ...SET, model: 'kmeans', params: { k: 2 } }, /federated\[0\]\.model.*classifier or a regressor/],
    [{ ...SET, clientz: [3] }, /unknown field 'federated\[0\]\.clientz'/],
  ];
  for (const [entry, message] of bad)
    assert.throws(
      () => parseFederatedList('federated', [entry]),
      (error: unknown) => error instanceof ConfigError && message.test(error.message),
      String(message),
    );
  const sets = parseFederatedList('federated', [{ ...SET, aggregators: ['fedavg', 'fedsgd:0.5'], partitions: ['iid', 'dirichlet:0.5'] }]);
  const cells = expandFederated(sets);
  assert.deepEqual(
    cells.map(({ cell }) => `${cell.partition} ${cell.aggregator}`),
    ['iid fedavg', 'iid fedsgd:0.5', 'dirichlet:0.5 fedavg', 'dirichlet:0.5 fedsgd:0.5'],
  );
  assert.equal(new Set(cells.map(({ cell }) => cell.key)).size, 4);
  // A matrix of federated cells alone needs no models; a plain matrix has none.
  assert.deepEqual(parseMatrix({ federated: [SET] }).models, []);
  assert.deepEqual(parseMatrix({ models: ['kmeans'] }).federated, []);
  // The default matrix: FedAvg and FedSGD × three partitions and one secure-aggregation cell; --quick one pair.
  assert.equal(expandFederated(defaultMatrix({ repeats: 1 }).federated!).length, 7);
  const quick = expandFederated(defaultMatrix({ rows: 20_000, repeats: 1 }).federated!);
  assert.deepEqual(
    quick.map(({ cell }) => `${cell.partition} ${cell.aggregator}`),
    ['iid fedavg', 'iid fedsgd:0.5'],
  );
  // The CLI's --federated-… flags replace the lists of every set (the default's plain one and its secure-aggregation one).
  const flagged = await resolveMatrix({ federated: { partitions: ['iid'], aggregators: ['fedavg'], clients: [10] } });
  assert.deepEqual(
    expandFederated(flagged.federated!).map(
      ({ cell }) => `${cell.partition} ${cell.aggregator} ${cell.clients}${cell.secureAggregation ? ' secagg' : ''}`,
    ),
    ['iid fedavg 10', 'iid fedavg 10 secagg'],
  );
});

test('a compare run stores rounds and bytes to target (NULL when not reached), and the claim and report read them', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const dbPath = join(dir, 'results.duckdb');
    const matrix = parseMatrix({
      name: 'federated-tiny',
      federated: [
        // FedAvg and FedSGD, run past the target so the bytes to it and in total differ.
        { ...SET, aggregators: ['fedavg', 'fedsgd:0.5'], stopAtTarget: false },
        // A target no model reaches on this noisy set within 3 rounds.
        { ...SET, target: 1, rounds: 3 },
      ],
    });
    const lines: string[] = [];
    const outcome = await runCompare(matrix, {
      dbPath,
      reportPath: null,
      onProgress: (event) => {
        if (event.type === 'federated-end') lines.push(event.line);
      },
    });
    const results = outcome.federated ?? [];
    assert.equal(results.length, 3, lines.join('\n'));
    // The terminal answer: one line per setting (the 0.7 one and the unreachable 1.0 one).
    assert.match(outcome.answer, /^Federated: logistic-regression on \S+, 4 clients \(2 a round\): rounds to accuracy 0\.7 — FedAvg iid \d+; FedSGD:0\.5 iid /m);
    assert.match(outcome.answer, /^Federated: .*rounds to accuracy 1 — FedAvg iid not within 3; no cell reached it within 3 rounds/m);
    for (const r of results) assert.equal(r.error, null, r.error ?? '');
    const [avg, sgd, unreachable] = results as [FederatedResult, FederatedResult, FederatedResult];
    assert.equal(avg.aggregator, 'fedavg');
    assert.ok(avg.roundsToTarget !== null && avg.roundsToTarget < avg.rounds, `FedAvg reached 0.7 early: ${lines[0]}`);
    assert.equal(avg.roundsRun, 6, 'stopAtTarget false runs every round');
    // Every round sends the same updates and models: bytes to target are that share of the total.
    const share = avg.roundsToTarget / avg.roundsRun;
    assert.ok(Math.abs(avg.bytesUpToTarget! / avg.bytesUp - share) < 0.01, `${avg.bytesUpToTarget} of ${avg.bytesUp}`);
    assert.ok(Math.abs(avg.bytesDownToTarget! / avg.bytesDown - share) < 0.01);
    assert.ok(avg.bytesUp > 0 && avg.secondsToTarget !== null && avg.secondsToTarget <= avg.wallSeconds);
    assert.ok(avg.centralised.score !== null && avg.centralised.score > 0.5 && avg.centralised.epochs === 3);
    assert.equal(sgd.aggregator, 'fedsgd:0.5');
    assert.equal(unreachable.roundsToTarget, null);
    assert.equal(unreachable.bytesUpToTarget, null);
    assert.equal(unreachable.roundsRun, 3);
    assert.ok(unreachable.bytesUp > 0, 'the total of an unreached cell is still counted');
    assert.match(lines[2]!, /not reached within 3 rounds/);

    // Stored: the columns (NULL for the unreached cell) and the whole result.
    const instance = await DuckDBInstance.create(dbPath);
    const connection = await instance.connect();
    const rows = (
      await connection.runAndReadAll(
        'SELECT aggregator, target, rounds_to_target, bytes_up_to_target, bytes_up FROM compare_federated ORDER BY seq',
      )
    ).getRowObjectsJS();
    connection.closeSync();
    instance.closeSync();
    assert.deepEqual(
      rows.map((row) => [
        row.aggregator,
        row.target,
        row.rounds_to_target === null ? null : Number(row.rounds_to_target),
        row.bytes_up_to_target,
      ]),
      [
        ['fedavg', 0.7, avg.roundsToTarget, avg.bytesUpToTarget],
        ['fedsgd:0.5', 0.7, sgd.roundsToTarget, sgd.bytesUpToTarget],
        ['fedavg', 1, null, null],
      ],
    );
    const loaded = await loadSession(dbPath);
    assert.deepEqual(loaded.federated, results);
    // --resume fits no stored cell again.
    const resumed = await resumeCompare(dbPath, { reportPath: null });
    assert.deepEqual(resumed.federated, results);
    assert.equal((await loadSession(dbPath)).federated!.length, 3);

    // The claim: the 0.7 setting reached its target (for), the 1.0 setting did not (against).
    const claim = evaluateClaims([], undefined, { federated: loaded.federated }).find((c) => c.id === 'federated-privacy')!;
    assert.equal(claim.verdict, 'mixed');
    assert.match(claim.evidence, new RegExp(`fedavg ${avg.roundsToTarget} rounds`));
    assert.match(claim.evidence, /fedavg not within 3 rounds/);
    assert.match(claim.evidence, /centralised accuracy/);
    assert.match(claim.evidence, /no DP cell/);
    const only = evaluateClaims([], undefined, { federated: [avg] }).find((c) => c.id === 'federated-privacy')!;
    assert.equal(only.verdict, 'supported');
    const none = evaluateClaims([]).find((c) => c.id === 'federated-privacy')!;
    assert.equal(none.verdict, 'not measured yet');
    assert.match(none.evidence, /no federated cell/);

    const html = await renderReport(loaded);
    assert.match(html, /Federated learning: rounds and bytes to a target/);
    assert.match(html, /not within 3/);
    assert.match(html, /id="federated-rounds"/);
  } finally {
    cleanup();
  }
});

test('a schema-6 file gains the federated table in one migration step and keeps its rows', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'results.duckdb');
    const store = await ResultsStore.open(path);
    await store.writeSession(session());
    store.close();
    // Make it the version-6 layout: no compare_federated table.
    const instance = await DuckDBInstance.create(path);
    const connection = await instance.connect();
    await connection.run(`DROP TABLE compare_federated; ALTER TABLE runs DROP COLUMN startup_ms; UPDATE meta SET value = '6' WHERE key = 'schema_version'`);
    connection.closeSync();
    instance.closeSync();

    const migrated = await ResultsStore.open(path);
    try {
      assert.equal(await migrated.schemaVersion(), SCHEMA_VERSION);
      assert.equal((await migrated.sessions()).length, 1);
      const stored = session();
      assert.deepEqual(await migrated.listFederated(stored.sessionId), []);
      const { cell } = expandFederated(parseFederatedList('federated', [SET]))[0]!;
      // A fit that missed its target: its to-target figures are null, stored as SQL NULL and read back as null.
      const result: FederatedResult = { ...failedFederated(cell, 0, ''), error: null, roundsRun: 6, bytesUp: 4800, bytesDown: 4900 };
      await migrated.writeFederated(result, stored);
      assert.deepEqual(await migrated.listFederated(stored.sessionId), [result]);
    } finally {
      migrated.close();
    }
  } finally {
    cleanup();
  }
});
