// Every layer's backward against central finite differences in float64 (relative error < 1e-5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LayerSpec } from '../../src/nn/layer.js';
import { gradCheck } from './gradcheck.js';

const TOLERANCE = 1e-5;

interface Case {
  name: string;
  specs: LayerSpec[];
  input: number[];
  checkInput?: boolean;
  ids?: number;
}

const cases: Case[] = [
  { name: 'dense', specs: [{ type: 'dense', units: 4 }], input: [5] },
  { name: 'dense → relu → dense', specs: [{ type: 'dense', units: 6 }, { type: 'relu' }, { type: 'dense', units: 3 }], input: [4] },
  { name: 'tanh', specs: [{ type: 'dense', units: 4 }, { type: 'tanh' }], input: [3] },
  { name: 'sigmoid', specs: [{ type: 'dense', units: 4 }, { type: 'sigmoid' }], input: [3] },
  {
    name: 'conv2d 3×3, stride 1, no padding',
    specs: [{ type: 'conv2d', filters: 3, kernelSize: 3, stride: 1, padding: 0 }],
    input: [5, 5, 2],
  },
  {
    name: 'conv2d 3×3, stride 2, padding 1',
    specs: [{ type: 'conv2d', filters: 2, kernelSize: 3, stride: 2, padding: 1 }],
    input: [6, 5, 3],
  },
  {
    name: 'conv2d 2×2, stride 1, padding 2',
    specs: [{ type: 'conv2d', filters: 2, kernelSize: 2, stride: 1, padding: 2 }],
    input: [3, 3, 1],
  },
  { name: 'max-pool 2×2', specs: [{ type: 'maxPool2d', size: 2, stride: 2 }], input: [4, 6, 2] },
  { name: 'max-pool 3×3 stride 2 (overlapping)', specs: [{ type: 'maxPool2d', size: 3, stride: 2 }], input: [7, 7, 2] },
  {
    name: 'conv → relu → pool → flatten → dense (a small CNN)',
    specs: [
      { type: 'conv2d', filters: 3, kernelSize: 3, stride: 1, padding: 1 },
      { type: 'relu' },
      { type: 'maxPool2d', size: 2, stride: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 3 },
    ],
    input: [6, 6, 1],
  },
  {
    name: 'dropout (fixed row seeds)',
    specs: [
      { type: 'dense', units: 8 },
      { type: 'dropout', rate: 0.4 },
    ],
    input: [3],
  },
  { name: 'simple RNN (BPTT, last state)', specs: [{ type: 'rnn', units: 4, returnSequences: false }], input: [5, 3] },
  { name: 'LSTM (BPTT, last state)', specs: [{ type: 'lstm', units: 4, returnSequences: false }], input: [5, 3] },
  { name: 'LSTM (BPTT, every step)', specs: [{ type: 'lstm', units: 3, returnSequences: true }], input: [4, 2] },
  { name: 'GRU (BPTT, last state)', specs: [{ type: 'gru', units: 4, returnSequences: false }], input: [5, 3] },
  { name: 'GRU (BPTT, every step)', specs: [{ type: 'gru', units: 3, returnSequences: true }], input: [4, 2] },
  {
    name: 'stacked LSTM → GRU → dense',
    specs: [
      { type: 'lstm', units: 3, returnSequences: true },
      { type: 'gru', units: 3, returnSequences: false },
      { type: 'dense', units: 2 },
    ],
    input: [4, 2],
  },
  {
    name: 'embedding → LSTM',
    specs: [
      { type: 'embedding', vocabulary: 6, dimension: 3 },
      { type: 'lstm', units: 3, returnSequences: false },
    ],
    input: [4],
    checkInput: false,
    ids: 6,
  },
];

for (const c of cases) {
  test(`gradient check: ${c.name}`, () => {
    const result = gradCheck(c.specs, c.input, {
      ...(c.checkInput === undefined ? {} : { checkInput: c.checkInput }),
      ...(c.ids === undefined ? {} : { input: (rng) => rng.int(c.ids!) }),
    });
    assert.ok(result.parameters > 0 || c.specs[0]!.type === 'maxPool2d', 'has parameters');
    assert.ok(result.parameterError < TOLERANCE, `parameter gradient relative error ${result.parameterError}`);
    assert.ok(result.inputError < TOLERANCE, `input gradient relative error ${result.inputError}`);
  });
}
