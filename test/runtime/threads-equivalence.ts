/**
 * The body of the paradigm-equivalence tests, split over two test files (half the models each) to
 * keep each file short on two cores. For one model case:
 * - threads with 1, 2 and 3 workers equals sequential within RELATIVE_TOLERANCE: synchronous SGD
 *   sees the same global batches, summation-form models the same statistics, so only the order of
 *   floating-point additions differs (per shard, then across ranks);
 * - the same worker count twice gives a bitwise-identical state (reductions in fixed rank order).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { createModel } from '../../src/models/registry.js';
import type { ModelCase } from './model-cases.js';
import { caseData, modelCases, stateDifference } from './model-cases.js';

/**
 * Tolerance on |threads − sequential| / max(1, max |field|), per state field. Summation order moves
 * float64 results by ~1e-16 relative per reduction; iterative solvers (SGD steps, L-BFGS, Lloyd)
 * carry that through a few hundred updates: measured ≤ 3e-14 here (PCA's eigenvectors; 5e-15 for
 * L-BFGS, 2e-16 for SGD and the float64 neural nets). Float32 cases state their own tolerance
 * (1e-6: float32's rounding unit is 6e-8; the float32 MLP measured 2e-9). 1e-9 leaves room and still catches any real difference (a wrong batch or
 * a missed shard moves results by ≥ 1e-3). One worker runs the very same arithmetic as sequential,
 * so there the states must be bitwise equal.
 */
export const RELATIVE_TOLERANCE = 1e-9;

export function equivalenceTests(select: (index: number) => boolean): void {
  modelCases().forEach((modelCase: ModelCase, index) => {
    if (!select(index)) return;
    const title = `${modelCase.name} (${modelCase.label})`;
    test(`${title}: threads with 1 worker is bitwise sequential, 2 and 3 within ${modelCase.tolerance ?? RELATIVE_TOLERANCE}; same workers twice is bitwise identical`, async () => {
      const data = caseData(modelCase.data);
      const make = (): ReturnType<typeof createModel> => createModel(modelCase.name, modelCase.params);
      const sequential = (await make().fit(data)).state;
      for (const workers of [1, 2, 3]) {
        const model = await make().fit(data, { paradigm: 'threads', workers });
        const { worst, where } = stateDifference(model.state, sequential);
        const tolerance = workers === 1 ? 0 : (modelCase.tolerance ?? RELATIVE_TOLERANCE);
        assert.ok(worst <= tolerance, `${workers} workers: relative difference ${worst} at ${where} (tolerance ${tolerance})`);
        assert.equal(model.fitInfo?.workers, workers);
        assert.equal(model.fitInfo?.comm.length, workers);
        assert.equal(model.fitInfo?.computeMs?.length, workers);
        if (workers === 3) {
          const again = await make().fit(data, { paradigm: 'threads', workers });
          const repeat = stateDifference(again.state, model.state);
          assert.equal(repeat.worst, 0, `3 workers twice: not bitwise identical at ${repeat.where}`);
        }
      }
    });
  });
}
