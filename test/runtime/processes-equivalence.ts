/**
 * The body of the processes-equivalence tests (split over two files to keep each short on two
 * cores). For one model case, with real child processes and CURVE-encrypted TCP on loopback:
 * - processes with 2 and 3 workers equals sequential within the threads tolerance (RELATIVE_TOLERANCE,
 *   or the case's own for float32 models; same reasoning: synchronous strategies see the same global batches, only the order of float
 *   additions differs);
 * - and is bitwise identical to threads with the same worker count: both shard the rows the same way
 *   and reduce in ascending rank order, so the transport must not change a single bit. Models trained
 *   on synchronous mini-batches are the exception (`batches`): threads split each batch evenly, processes
 *   by shard, so there the two agree within the tolerance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { createModel } from '../../src/models/registry.js';
import type { ModelCase } from './model-cases.js';
import { caseData, modelCases, stateDifference } from './model-cases.js';
import { RELATIVE_TOLERANCE } from './threads-equivalence.js';

export function processesEquivalenceTests(select: (index: number) => boolean): void {
  modelCases().forEach((modelCase: ModelCase, index) => {
    if (!select(index)) return;
    const title = `${modelCase.name} (${modelCase.label})`;
    const tolerance = modelCase.tolerance ?? RELATIVE_TOLERANCE;
    const versus = modelCase.batches === true ? `within ${tolerance}` : 'bitwise';
    test(`${title}: processes with 2 and 3 workers equal sequential within ${tolerance} and threads ${versus}`, async () => {
      const data = caseData(modelCase.data);
      const make = (): ReturnType<typeof createModel> => createModel(modelCase.name, modelCase.params);
      const sequential = (await make().fit(data)).state;
      for (const workers of [2, 3]) {
        const model = await make().fit(data, { paradigm: 'processes', workers, timeoutMs: 30_000 });
        const { worst, where } = stateDifference(model.state, sequential);
        assert.ok(worst <= tolerance, `${workers} processes: relative difference ${worst} at ${where} (tolerance ${tolerance})`);
        const threads = await make().fit(data, { paradigm: 'threads', workers });
        const versusThreads = stateDifference(model.state, threads.state);
        if (modelCase.batches === true)
          assert.ok(
            versusThreads.worst <= tolerance,
            `${workers} processes vs threads: relative difference ${versusThreads.worst} at ${versusThreads.where}`,
          );
        else assert.equal(versusThreads.worst, 0, `${workers} processes vs threads: not bitwise identical at ${versusThreads.where}`);
        const info = model.fitInfo!;
        assert.equal(info.paradigm, 'processes');
        assert.equal(info.comm.length, workers);
        assert.ok(
          info.comm.every((stats) => stats.bytesSent > 0),
          'every rank sent bytes over TCP',
        );
        assert.equal(info.setupBytes, data.x.byteLength + data.y!.byteLength, 'the shards shipped at start are counted apart');
      }
    });
  });
}
