// prepareData's placement: for the threads paradigm the CLI loads, splits and scales straight into
// shared memory, so the fit reads the rows in place instead of copying them there first (issue #19).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseArgs } from '../../src/cli/args.js';
import { prepareData } from '../../src/cli/data-flags.js';
import { isShared } from '../../src/core/storage.js';

const spec = 'synthetic:classification?rows=600&cols=4&seed=3';

test("prepareData with 'shared' gives the same rows as 'heap', in shared memory, split or not, scaled or not", async () => {
  for (const flags of [[], ['--eval', 'train'], ['--standardize']]) {
    const heap = await prepareData(parseArgs(['--data', spec, ...flags]));
    const shared = await prepareData(parseArgs(['--data', spec, ...flags]), undefined, false, 'shared');
    assert.equal(isShared(heap.train.x), false, flags.join(' '));
    assert.ok(isShared(shared.train.x) && isShared(shared.train.labels()), flags.join(' '));
    assert.deepEqual(Array.from(shared.train.x), Array.from(heap.train.x), flags.join(' '));
    assert.deepEqual(Array.from(shared.evaluation.labels()), Array.from(heap.evaluation.labels()), flags.join(' '));
  }
});
