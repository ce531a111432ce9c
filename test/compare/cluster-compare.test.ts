// A real compare with cluster cells: 2 ranks in 2 network namespaces, once on the uncapped veth
// ('loopback') and once behind a 200 Mbit/s tbf ('lan'). Each cell stores a row named with its
// network, learns exactly the model processes×2 learns (SGD with allreduce does not depend on the
// paradigm: same score, same final loss, bit for bit), its bytes are counted, the report and summary
// include it, and no namespace is left behind. Needs root; skips with the reason otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { runCompare } from '../../src/compare/compare.js';
import { parseMatrix, parseNetworksFlag } from '../../src/compare/matrix.js';
import { listRuns } from '../../src/compare/store.js';
import { listNamespaces, namespacesUnavailable } from '../../src/runtime/netns.js';

const reason = namespacesUnavailable();

test(
  'cluster cells over namespaces: rows named by network, the processes model bit for bit, no namespace left',
  { skip: reason ?? false },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardlearn-cluster-compare-'));
    try {
      const dbPath = join(dir, 'results.duckdb');
      const reportPath = join(dir, 'report.html');
      const matrix = parseMatrix({
        models: [{ name: 'logistic-regression', params: { solver: 'sgd', epochs: 3, batchSize: 64 } }],
        data: ['synthetic:classification?rows=4000&cols=6&seed=2'],
        paradigms: ['sequential', 'processes', 'cluster'],
        workers: [2],
        networks: parseNetworksFlag('loopback,lan:tbf:200mbit'),
        repeats: 1,
        warmup: false,
        timeoutMs: 20_000,
      });
      const outcome = await runCompare(matrix, { dbPath, reportPath });
      const runs = await listRuns(dbPath);
      assert.deepEqual(runs.map((r) => `${r.paradigm}@${r.network}:${r.status}`).sort(), [
        'cluster@lan:ok',
        'cluster@loopback:ok',
        'processes@loopback:ok',
        'sequential@loopback:ok',
      ]);
      const processes = runs.find((r) => r.paradigm === 'processes')!;
      const sequential = runs.find((r) => r.paradigm === 'sequential')!;
      for (const cluster of runs.filter((r) => r.paradigm === 'cluster')) {
        assert.equal(cluster.workers, 2);
        assert.equal(cluster.score, processes.score, `cluster@${cluster.network} scores what processes×2 scores`);
        assert.equal(cluster.finalLoss, processes.finalLoss, `cluster@${cluster.network} ends at the processes×2 loss`);
        assert.ok(Math.abs(cluster.score! - sequential.score!) < 0.02, `close to sequential: ${cluster.score} vs ${sequential.score}`);
        assert.ok(cluster.bytesSent > 0 && cluster.setupBytes > 0, 'training bytes and the shards written are counted');
        assert.ok(cluster.speedup !== null, 'speedup against the sequential baseline');
      }
      assert.ok(
        outcome.summary.some((c) => c.paradigm === 'cluster' && c.network === 'lan'),
        'the summary has the tbf cell',
      );
      assert.match(outcome.table, /cluster×2 allreduce @lan/);
      assert.match(readFileSync(reportPath, 'utf8'), /cluster×2 allreduce/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // This process's namespaces only (their names start with sl<pid in base 36>): other test files may run beside this one.
    assert.deepEqual(
      listNamespaces().filter((name) => name.startsWith(`sl${process.pid.toString(36)}-`)),
      [],
      'every namespace the runs made is deleted',
    );
  },
);
