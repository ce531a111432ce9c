/**
 * The saved state of a neural classifier, checked on load: sorted classes, an input shape, a layer
 * list whose every spec is a known layer with whole-number sizes, that fits the input shape and ends
 * in a dense layer of one unit per class, and exactly as many finite weights as those layers hold.
 * The parameter count comes from the layers' shapes alone (nothing is allocated), so a file
 * claiming a 10⁹-unit layer fails on the count, not on memory.
 */
import type { LayerSpec } from '../../nn/layer.js';
import { createLayer } from '../../nn/network.js';
import { ParameterLayout } from '../../nn/parameters.js';
import type { StateSchema } from '../state-schema.js';
import { describe } from '../state-schema.js';
import type { NeuralState } from './classifier.js';

type FieldRule = 'size' | 'count' | 'rate' | 'flag';

/** The fields of each layer type, and what each must be. */
const LAYER_FIELDS: Record<LayerSpec['type'], Record<string, FieldRule>> = {
  dense: { units: 'size' },
  conv2d: { filters: 'size', kernelSize: 'size', stride: 'size', padding: 'count' },
  maxPool2d: { size: 'size', stride: 'size' },
  flatten: {},
  dropout: { rate: 'rate' },
  relu: {},
  tanh: {},
  sigmoid: {},
  rnn: { units: 'size', returnSequences: 'flag' },
  lstm: { units: 'size', returnSequences: 'flag' },
  gru: { units: 'size', returnSequences: 'flag' },
  embedding: { vocabulary: 'size', dimension: 'size' },
};

function fieldProblem(rule: FieldRule, value: unknown): string | null {
  switch (rule) {
    case 'size':
      return typeof value === 'number' && Number.isInteger(value) && value >= 1 ? null : 'an integer ≥ 1';
    case 'count':
      return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? null : 'an integer ≥ 0';
    case 'rate':
      return typeof value === 'number' && value >= 0 && value < 1 ? null : 'a number in [0, 1)';
    case 'flag':
      return typeof value === 'boolean' ? null : 'true or false';
  }
}

/** What is wrong with one layer spec, or null. */
function layerProblem(spec: unknown, index: number): string | null {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) return `layer ${index} is ${describe(spec)}`;
  const record = spec as Record<string, unknown>;
  const type = record['type'];
  if (typeof type !== 'string' || !Object.hasOwn(LAYER_FIELDS, type)) {
    return `layer ${index} has type ${describe(type)}, not one of ${Object.keys(LAYER_FIELDS).join(', ')}`;
  }
  const fields = LAYER_FIELDS[type as LayerSpec['type']];
  for (const key of Object.keys(record)) {
    if (key !== 'type' && !Object.hasOwn(fields, key)) return `layer ${index} (${type}) has an unknown field '${key}'`;
  }
  for (const [field, rule] of Object.entries(fields)) {
    const problem = fieldProblem(rule, record[field]);
    if (problem !== null) return `layer ${index} (${type}) field '${field}' must be ${problem}, found ${describe(record[field])}`;
  }
  return null;
}

/** Parameters and output shape of `layers` on `inputShape`, without allocating the weights. */
export function networkShape(
  layers: readonly LayerSpec[],
  inputShape: readonly number[],
): { size: number; outputShape: readonly number[] } {
  const layout = new ParameterLayout();
  let shape: readonly number[] = inputShape;
  for (const spec of layers) shape = createLayer(spec).build(shape, layout, 'float64');
  return { size: layout.size, outputShape: shape };
}

function layersProblem(value: unknown, state: NeuralState): string | null {
  if (!Array.isArray(value) || value.length === 0) return `found ${describe(value)}`;
  for (let i = 0; i < value.length; i++) {
    const problem = layerProblem(value[i], i);
    if (problem !== null) return problem;
  }
  const last = value[value.length - 1] as LayerSpec;
  if (last.type !== 'dense' || last.units !== state.classes.length) {
    return `the last layer must be dense with ${state.classes.length} units (one per class), found ${JSON.stringify(last)}`;
  }
  try {
    networkShape(value as LayerSpec[], state.inputShape);
  } catch (error) {
    return `the layers do not fit inputShape ${JSON.stringify(state.inputShape)}: ${error instanceof Error ? error.message : String(error)}`;
  }
  return null;
}

export const NEURAL_STATE: StateSchema<NeuralState> = {
  classes: { type: 'floats', minLength: 2, increasing: true },
  inputShape: { type: 'ints', min: 1, minLength: 1 },
  layers: { type: 'check', expected: 'a list of layer specs ending in a dense layer of one unit per class', check: layersProblem },
  params: { type: 'floats', length: { as: "the layers' parameter count", is: (s) => networkShape(s.layers, s.inputShape).size } },
};
