// When one rank of a processes fit fails, its peers fail too: they see it leave. The launcher must
// give the caller the rank's own error (the root cause), not a peer's PEER_LOST that happened to
// reach it first, and keep the peers' reports in the message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { Dataset } from '../../src/data/dataset.js';
import { CommError, WorkerError } from '../../src/core/errors.js';
import { rootCause } from '../../src/runtime/processes.js';
import { FaultyModel } from './fixtures/fixture-models.js';

const workerModules = [new URL('./fixtures/fixture-models.js', import.meta.url).href];

test("one rank throws mid-run: the caller gets that rank's error, with the peers' reports of its departure", async () => {
  const data = new Dataset({ x: new Float64Array(30), rows: 30, cols: 1 });
  for (const faultyRank of [1, 2]) {
    await assert.rejects(
      new FaultyModel('test-throws', { faultyRank }).fit(data, { paradigm: 'processes', workers: 3, timeoutMs: 20_000, workerModules }),
      (error: unknown) => {
        assert.ok(error instanceof WorkerError, `expected the faulty rank's WorkerError, got ${String(error)}`);
        assert.equal(error.rank, faultyRank, error.message);
        assert.match(error.message, new RegExp(`deliberate failure on rank ${faultyRank}`));
        // The peers waited for it in an all-reduce; their reports say it left on that error.
        // (Their host: the processes paradigm's ranks talk over the local path, src/comm/zmq/local.ts.)
        assert.match(
          error.message,
          new RegExp(
            `also: .*rank ${faultyRank} \\(this host \\(ipc\\)\\) is gone: it stopped on an error and left \\(RangeError: deliberate failure`,
          ),
          error.message,
        );
        return true;
      },
    );
  }
});

test("rootCause prefers a rank's own error, then a dead process, then a timeout, then a lost peer; earliest first within a kind", () => {
  const lost = new CommError('PEER_LOST', 'worker rank 0 reports: rank 1 is gone', { rank: 1 });
  const silent = new CommError('TIMEOUT', 'worker rank 2 reports: no message from rank 1', { rank: 1 });
  const died = new CommError('PEER_LOST', 'worker rank 3 exited with code 1 before reporting a result', { rank: 3 });
  const own = new WorkerError(1, 'deliberate');
  const chosen = rootCause([
    { error: lost, kind: 'peer-lost' },
    { error: silent, kind: 'timeout' },
    { error: died, kind: 'died' },
    { error: own, kind: 'own' },
  ]);
  assert.equal(chosen, own);
  assert.match(chosen.message, /also: worker rank 3 exited.*; worker rank 2 reports.*; worker rank 0 reports/);
  assert.equal(rootCause([{ error: lost, kind: 'peer-lost' }]), lost, 'a lone report is given as it is');
});
