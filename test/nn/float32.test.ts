// The float32 network (the training path: WASM float32 gemm at these sizes) against the float64
// network (the reference) on the same parameters and input: outputs and gradients agree to
// float32 precision. This is what ties the fast path to the finite-difference-checked one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';
import type { LayerSpec } from '../../src/nn/layer.js';
import { Network } from '../../src/nn/network.js';
import { softmaxCrossEntropy } from '../../src/nn/losses.js';

function compare(specs: LayerSpec[], inputShape: number[], batch: number): { output: number; gradient: number } {
  const rng = new Rng(11);
  const reference = new Network(specs, inputShape, 'float64');
  reference.store.initialize(rng);
  const fast = new Network(specs, inputShape, 'float32');
  fast.loadParameters(reference.store.values);
  const length = batch * inputShape.reduce((a, b) => a * b, 1);
  const x64 = Float64Array.from({ length }, () => rng.uniform());
  const targets = Array.from({ length: batch }, (_, i) => i % 10);
  const context = { training: true, rowSeeds: null };
  const run = (net: Network, x: Float64Array | Float32Array): { out: Float64Array; grad: Float64Array } => {
    const y = net.forward({ shape: [batch, ...inputShape], data: x }, context);
    const out = Float64Array.from(y.data);
    net.zeroGradients();
    net.backward(softmaxCrossEntropy(y, targets).gradient);
    return { out, grad: Float64Array.from(net.store.gradients) };
  };
  const a = run(reference, x64);
  const b = run(fast, Float32Array.from(x64));
  const worst = (p: Float64Array, q: Float64Array): number => {
    let scale = 0;
    for (const v of p) scale = Math.max(scale, Math.abs(v));
    let error = 0;
    for (let i = 0; i < p.length; i++) error = Math.max(error, Math.abs(p[i]! - q[i]!));
    return error / scale;
  };
  return { output: worst(a.out, b.out), gradient: worst(a.grad, b.grad) };
}

test('float32 CNN matches the float64 reference (outputs and gradients, relative to the largest)', () => {
  const specs: LayerSpec[] = [
    { type: 'conv2d', filters: 8, kernelSize: 5, stride: 1, padding: 0 },
    { type: 'relu' },
    { type: 'maxPool2d', size: 2, stride: 2 },
    { type: 'conv2d', filters: 16, kernelSize: 3, stride: 1, padding: 1 },
    { type: 'relu' },
    { type: 'maxPool2d', size: 2, stride: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 10 },
  ];
  const { output, gradient } = compare(specs, [16, 16, 1], 16);
  assert.ok(output < 1e-4, `output ${output}`);
  assert.ok(gradient < 1e-3, `gradient ${gradient}`);
});

test('float32 LSTM matches the float64 reference', () => {
  const { output, gradient } = compare(
    [
      { type: 'lstm', units: 32, returnSequences: false },
      { type: 'dense', units: 10 },
    ],
    [12, 16],
    32,
  );
  assert.ok(output < 1e-4, `output ${output}`);
  assert.ok(gradient < 1e-3, `gradient ${gradient}`);
});
