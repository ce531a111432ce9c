// The network as a whole: one flat parameter vector laid out in declaration order, seeded
// initialisation, and the pool-before-ReLU rewrite the CNN relies on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';
import type { LayerSpec } from '../../src/nn/layer.js';
import { Network } from '../../src/nn/network.js';

test('parameters are one contiguous vector: slots in declaration order, back to back, covering it exactly', () => {
  const net = new Network(
    [{ type: 'conv2d', filters: 2, kernelSize: 3, stride: 1, padding: 0 }, { type: 'flatten' }, { type: 'dense', units: 3 }],
    [5, 5, 1],
    'float32',
  );
  const slots = net.store.layout.slots;
  assert.deepEqual(
    slots.map((s) => s.name),
    ['conv2d.weight', 'conv2d.bias', 'dense.weight', 'dense.bias'],
  );
  let offset = 0;
  for (const slot of slots) {
    assert.equal(slot.offset, offset);
    offset += slot.length;
  }
  assert.equal(offset, net.size);
  assert.equal(net.size, 2 * 9 + 2 + 3 * 18 + 3);
  assert.equal(net.store.values.length, net.size);
  assert.equal(net.store.gradients.length, net.size);
  assert.throws(() => net.loadParameters(new Float64Array(net.size + 1)), /has 77 parameters/);
});

test('the same seed gives the same initial weights; biases start at zero', () => {
  const make = (seed: number): Float32Array => {
    const net = new Network([{ type: 'flatten' }, { type: 'dense', units: 4 }], [2, 3], 'float32');
    net.store.initialize(new Rng(seed));
    return net.store.values as Float32Array;
  };
  assert.deepEqual(make(5), make(5));
  assert.notDeepEqual(make(5), make(6));
  assert.deepEqual(Array.from(make(5).subarray(24)), [0, 0, 0, 0]);
});

test('max-pool then ReLU equals ReLU then max-pool, forward and backward (the CNN uses the cheaper order)', () => {
  const conv: LayerSpec = { type: 'conv2d', filters: 4, kernelSize: 3, stride: 1, padding: 1 };
  const a = new Network(
    [conv, { type: 'relu' }, { type: 'maxPool2d', size: 2, stride: 2 }, { type: 'flatten' }, { type: 'dense', units: 3 }],
    [8, 8, 2],
    'float64',
  );
  const b = new Network(
    [conv, { type: 'maxPool2d', size: 2, stride: 2 }, { type: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 3 }],
    [8, 8, 2],
    'float64',
  );
  a.store.initialize(new Rng(1));
  b.loadParameters(a.store.values);
  const rng = new Rng(2);
  const x = { shape: [4, 8, 8, 2], data: Float64Array.from({ length: 4 * 128 }, () => rng.normal()) };
  const context = { training: true, rowSeeds: null };
  const ya = Float64Array.from(a.forward(x, context).data);
  const yb = Float64Array.from(b.forward(x, context).data);
  assert.deepEqual(ya, yb);
  const dy = { shape: [4, 3], data: Float64Array.from({ length: 12 }, () => rng.normal()) };
  a.forward(x, context);
  a.zeroGradients();
  a.backward(dy);
  b.zeroGradients();
  b.backward(dy);
  for (let i = 0; i < a.size; i++) assert.ok(Math.abs(a.store.gradients[i]! - b.store.gradients[i]!) < 1e-12);
});
