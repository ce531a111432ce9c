/**
 * Cutting a network's layers into pipeline stages. The rule: consecutive layers, every stage at
 * least one layer, minimising the largest stage's forward cost in multiply-adds per row (the
 * linear-partition problem, solved exactly by dynamic programming; ties broken the same way on
 * every rank, so all ranks agree on the cut).
 * FLOPs rather than parameter count because a stage's time is its arithmetic: a 5×5 convolution
 * has few weights but applies them at every output position (the default MNIST CNN's second
 * convolution has 51k weights and 3.3M multiply-adds per image; its first dense layer 131k and 131k).
 * Backward costs about twice forward for every layer with weights, so the same cut balances both.
 *
 * @example
 * const costs = layerCosts(layers, [784], 'float64'); // [100480, 128, 1290] for dense128-relu-dense10
 * partitionStages(costs, 2);                            // [{ start: 0, end: 1 }, { start: 1, end: 3 }]
 */
import { ConfigError } from '../../../core/errors.js';
import type { DType } from '../../../core/storage.js';
import type { LayerSpec } from '../../../nn/layer.js';
import { Network } from '../../../nn/network.js';
import { sizeOf } from '../../../nn/tensor.js';

/** Layers [start, end) of the network. */
export interface StageRange {
  start: number;
  end: number;
}

/**
 * Forward multiply-adds per row of each layer: parameters × output positions for convolutions,
 * parameters for dense layers, parameters × time steps for recurrent ones, and the larger of input
 * and output size for layers without weights (activations, pooling, flatten, dropout).
 */
export function layerCosts(layers: readonly LayerSpec[], inputShape: readonly number[], dtype: DType): number[] {
  const costs: number[] = [];
  let shape: readonly number[] = inputShape;
  for (const spec of layers) {
    const single = new Network([spec], shape, dtype);
    const out = single.outputShape;
    const params = single.size;
    switch (spec.type) {
      case 'conv2d':
        costs.push(params * (sizeOf(out) / spec.filters));
        break;
      case 'rnn':
      case 'lstm':
      case 'gru':
        costs.push(params * (shape[0] ?? 1));
        break;
      default:
        costs.push(params > 0 ? params : Math.max(sizeOf(shape), sizeOf(out)));
    }
    shape = out;
  }
  return costs;
}

/** Split `costs` (one per layer) into `stages` consecutive non-empty ranges minimising the largest sum. */
export function partitionStages(costs: readonly number[], stages: number): StageRange[] {
  const n = costs.length;
  if (!Number.isInteger(stages) || stages < 1 || stages > n) {
    throw new ConfigError(
      `pipeline: ${stages} workers need at least ${stages} layers to make one stage each, the network has ${n}; use fewer workers or a deeper network`,
      { field: 'workers' },
    );
  }
  const prefix = [0];
  for (const cost of costs) prefix.push(prefix[prefix.length - 1]! + cost);
  const sum = (a: number, b: number): number => prefix[b]! - prefix[a]!;
  // best[k][i]: the smallest possible largest stage cost for layers [0, i) in k stages; cut[k][i] the
  // start of the last stage in that split.
  const best: number[][] = Array.from({ length: stages + 1 }, () => new Array<number>(n + 1).fill(Infinity));
  const cut: number[][] = Array.from({ length: stages + 1 }, () => new Array<number>(n + 1).fill(0));
  best[0]![0] = 0;
  for (let k = 1; k <= stages; k++) {
    for (let i = k; i <= n; i++) {
      for (let j = k - 1; j < i; j++) {
        const candidate = Math.max(best[k - 1]![j]!, sum(j, i));
        if (candidate < best[k]![i]!) {
          best[k]![i] = candidate;
          cut[k]![i] = j;
        }
      }
    }
  }
  const ranges: StageRange[] = [];
  let end = n;
  for (let k = stages; k >= 1; k--) {
    const start = cut[k]![end]!;
    ranges.unshift({ start, end });
    end = start;
  }
  return ranges;
}
