/**
 * Finite-difference gradient checks in float64: the analytic gradient of L = Σ w ⊙ f(x) (w a fixed
 * random projection, so ∂L/∂output = w) against central differences (L(θ+h) − L(θ−h)) / 2h for every
 * parameter and every input element. Reports the worst relative error |a − n| / max(|a|, |n|, floor).
 */
import { Rng } from '../../src/core/rng.js';
import '../../src/core/index.js';
import type { LayerSpec } from '../../src/nn/layer.js';
import { Network } from '../../src/nn/network.js';
import type { Tensor } from '../../src/nn/tensor.js';
import { sizeOf } from '../../src/nn/tensor.js';

export interface GradCheckResult {
  parameterError: number;
  inputError: number;
  parameters: number;
}

const STEP = 1e-6;
/** Gradients below this are compared absolutely (relative error of two tiny numbers is noise). */
const FLOOR = 1e-4;

export function relativeError(analytic: number, numeric: number): number {
  return Math.abs(analytic - numeric) / Math.max(Math.abs(analytic), Math.abs(numeric), FLOOR);
}

export interface GradCheckOptions {
  batch?: number;
  seed?: number;
  /** Input values; default standard normal. */
  input?: (rng: Rng, index: number) => number;
  /** Check ∂L/∂input too (default true). */
  checkInput?: boolean;
}

export function gradCheck(specs: LayerSpec[], inputShape: number[], options: GradCheckOptions = {}): GradCheckResult {
  const rng = new Rng(options.seed ?? 7);
  const batch = options.batch ?? 3;
  const net = new Network(specs, inputShape, 'float64');
  net.store.initialize(rng);
  // Larger than the default init so that every op works away from its linear regime.
  for (let i = 0; i < net.size; i++) net.store.values[i] = net.store.values[i]! + 0.1 * rng.normal();
  const shape = [batch, ...inputShape];
  const x = Float64Array.from({ length: sizeOf(shape) }, (_, i) => (options.input ?? ((r) => r.normal()))(rng, i));
  const input: Tensor = { shape, data: x };
  const context = { training: true, rowSeeds: Uint32Array.from({ length: batch }, (_, i) => 100 + i) };
  const probe = net.forward(input, context);
  const weights = Float64Array.from({ length: probe.data.length }, () => rng.normal());
  const lossAt = (): number => {
    const y = net.forward(input, context).data;
    let sum = 0;
    for (let i = 0; i < y.length; i++) sum += weights[i]! * y[i]!;
    return sum;
  };

  lossAt();
  net.zeroGradients();
  const dx = net.backward({ shape: probe.shape, data: Float64Array.from(weights) }, options.checkInput !== false);
  const analyticParams = Float64Array.from(net.store.gradients);
  const analyticInput = dx === null ? null : Float64Array.from(dx.data);

  let parameterError = 0;
  const values = net.store.values;
  for (let i = 0; i < values.length; i++) {
    const saved = values[i]!;
    values[i] = saved + STEP;
    const plus = lossAt();
    values[i] = saved - STEP;
    const minus = lossAt();
    values[i] = saved;
    parameterError = Math.max(parameterError, relativeError(analyticParams[i]!, (plus - minus) / (2 * STEP)));
  }
  let inputError = 0;
  if (analyticInput !== null) {
    for (let i = 0; i < x.length; i++) {
      const saved = x[i]!;
      x[i] = saved + STEP;
      const plus = lossAt();
      x[i] = saved - STEP;
      const minus = lossAt();
      x[i] = saved;
      inputError = Math.max(inputError, relativeError(analyticInput[i]!, (plus - minus) / (2 * STEP)));
    }
  }
  return { parameterError, inputError, parameters: net.size };
}
