// Under Hogwild all ranks' updates land in one vector, and the update rule numbers them together
// (models/solvers/sgd.ts updateNumber): as if the ranks took turns, every number from 1 to the run's
// total is used exactly once, and one rank numbers its own updates as sequential SGD does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { updateNumber } from '../../src/models/solvers/sgd.js';

test('P ranks taking K updates each are numbered 1 … P·K, each once, rank order within a turn', () => {
  for (const size of [1, 2, 3]) {
    const numbers: number[] = [];
    for (let rank = 0; rank < size; rank++) for (let own = 1; own <= 5; own++) numbers.push(updateNumber(own, rank, size));
    assert.deepEqual(
      [...numbers].sort((a, b) => a - b),
      Array.from({ length: size * 5 }, (_, i) => i + 1),
    );
    for (let rank = 0; rank < size; rank++) assert.equal(updateNumber(2, rank, size), size + rank + 1);
  }
  assert.deepEqual(
    [1, 2, 3].map((own) => updateNumber(own, 0, 1)),
    [1, 2, 3],
    'a world of one counts its own steps',
  );
});
