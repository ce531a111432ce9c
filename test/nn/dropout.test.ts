// Dropout masks are a function of the row seed, the layer's place in the whole network and the
// unit — not of which network object holds the layer or where the row sits in the batch — so a
// pipeline stage (a slice of the network, placed at its parameter offset) drops exactly the units
// the whole network drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';
import { Dropout } from '../../src/nn/dropout.js';
import type { LayerSpec } from '../../src/nn/layer.js';
import { Network } from '../../src/nn/network.js';
import { ParameterLayout } from '../../src/nn/parameters.js';
import type { Tensor } from '../../src/nn/tensor.js';

const LAYERS: LayerSpec[] = [
  { type: 'dense', units: 6 },
  { type: 'relu' },
  { type: 'dropout', rate: 0.5 },
  { type: 'dense', units: 5 },
  { type: 'relu' },
  { type: 'dropout', rate: 0.4 },
  { type: 'dense', units: 3 },
];
const ROWS = 7;
const input: Tensor = { shape: [ROWS, 4], data: Float64Array.from({ length: ROWS * 4 }, (_, i) => Math.sin(i + 1)) };
const seeds = Uint32Array.from({ length: ROWS }, (_, i) => 1000 + 37 * i);

function wholeNetwork(): Network {
  const network = new Network(LAYERS, [4], 'float64');
  network.store.initialize(new Rng(3));
  return network;
}

/** The whole network cut after layer `cut`, each part loaded with its slice of `whole`'s weights. */
function stages(whole: Network, cut: number, place: boolean): [Network, Network] {
  const first = new Network(LAYERS.slice(0, cut), [4], 'float64');
  const second = new Network(LAYERS.slice(cut), first.outputShape, 'float64');
  const values = Float64Array.from(whole.store.values);
  first.loadParameters(values.subarray(0, first.size));
  second.loadParameters(values.subarray(first.size));
  if (place) for (const layer of second.layers) if (layer instanceof Dropout) layer.placeAt(first.size);
  return [first, second];
}

test('a network split in two, the second part placed at its parameter offset, drops the same units as the whole network', () => {
  const whole = wholeNetwork();
  const expected = Float64Array.from(whole.forward(input, { training: true, rowSeeds: seeds }).data);
  for (const cut of [1, 3, 4]) {
    // both dropout layers on the second part, or one on each
    const [first, second] = stages(whole, cut, true);
    const middle = first.forward(input, { training: true, rowSeeds: seeds });
    const output = second.forward({ shape: middle.shape, data: Float64Array.from(middle.data) }, { training: true, rowSeeds: seeds });
    assert.deepEqual(Float64Array.from(output.data), expected, `cut after layer ${cut}`);
    // Unplaced, the second part's dropout layers draw other masks: the placement is what matters.
    const [firstUnplaced, secondUnplaced] = stages(whole, cut, false);
    const unplaced = secondUnplaced.forward(firstUnplaced.forward(input, { training: true, rowSeeds: seeds }), {
      training: true,
      rowSeeds: seeds,
    });
    assert.notDeepEqual(Float64Array.from(unplaced.data), expected, `cut after layer ${cut}, unplaced`);
  }
});

test("a row's mask follows its seed, not its position in the batch", () => {
  const dropout = new Dropout({ rate: 0.5 });
  dropout.build([50], new ParameterLayout(), 'float64');
  const ones = (rows: number): Tensor => ({ shape: [rows, 50], data: new Float64Array(rows * 50).fill(1) });
  const both = Float64Array.from(dropout.forward(ones(2), { training: true, rowSeeds: Uint32Array.of(11, 22) }).data);
  const second = Float64Array.from(dropout.forward(ones(1), { training: true, rowSeeds: Uint32Array.of(22) }).data);
  assert.deepEqual(both.subarray(50), second);
  assert.notDeepEqual(both.subarray(0, 50), second, 'different rows get different masks');
  // Inverted dropout: kept units are scaled by 1 / (1 − rate), so the mean stays near 1.
  assert.ok(both.every((value) => value === 0 || value === 2));
});
