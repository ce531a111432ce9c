/**
 * The learner's half of DQN (Mnih et al. 2015) on shardlearn's own nn engine: an online Q-network
 * (observation → one value per action), its target copy, Adam on a float64 master vector, and one
 * gradient step on a replayed batch:
 *
 *   y = r + γ·(1 − terminated)·Q_target(s', a*),  a* = argmax_a Q_online(s', a)  (Double DQN,
 *       van Hasselt et al. 2016) or argmax_a Q_target(s', a) (plain DQN)
 *   loss = mean over the batch of Huber(Q_online(s, a) − y) (or squared error)
 *
 * The gradient reaches only the taken action's output. Target updates are hard (copy every k steps)
 * or Polyak averaging θ' ← τ·θ + (1 − τ)·θ' after each gradient step.
 *
 * @example
 * const q = new QNetwork({ observationLength: 4, actions: 2, hidden: [64, 64], dtype: 'float32', seed: 0 });
 * q.act(observation);                          // greedy action
 * q.train(batch, { gamma: 0.99, lr: 1e-3, double: true, loss: 'huber', maxGradNorm: 10 });
 */
import { Rng } from '../../core/rng.js';
import type { DType, FloatArray } from '../../core/storage.js';
import type { LayerSpec } from '../../nn/layer.js';
import { huber, huberDerivative } from '../../nn/losses.js';
import { Network } from '../../nn/network.js';
import { Adam, clipGlobalNorm } from '../../nn/optimizers.js';
import { dtypeArray } from '../../nn/tensor.js';

export type TdLoss = 'huber' | 'mse';
export const TD_LOSSES: readonly TdLoss[] = ['huber', 'mse'];

export interface QNetworkOptions {
  observationLength: number;
  actions: number;
  hidden: readonly number[];
  dtype: DType;
  seed: number;
}

/** A replayed batch, observations row-major. */
export interface TransitionBatch {
  size: number;
  observations: FloatArray;
  actions: Int32Array;
  rewards: Float64Array;
  nextObservations: FloatArray;
  terminated: Uint8Array;
}

export interface UpdateOptions {
  gamma: number;
  lr: number;
  double: boolean;
  loss: TdLoss;
  /** Clip the gradient's global L2 norm (Stable-Baselines3's default 10); Infinity: no clipping. */
  maxGradNorm: number;
  /** Huber's δ: quadratic within it, linear beyond (default 1, PyTorch's smooth L1). */
  huberDelta?: number;
}

const TRAINING = { training: true, rowSeeds: null } as const;
const INFERENCE = { training: false, rowSeeds: null } as const;

/** The layer specs of a Q-network: dense + ReLU per hidden width, then one output per action. */
export function qNetworkSpecs(hidden: readonly number[], actions: number): LayerSpec[] {
  return [...hidden.flatMap((units): LayerSpec[] => [{ type: 'dense', units }, { type: 'relu' }]), { type: 'dense', units: actions }];
}

export class QNetwork {
  readonly online: Network;
  readonly target: Network;
  /** The online network's parameters in float64, what Adam updates and what ranks exchange. */
  readonly params: Float64Array;
  readonly actions: number;
  readonly observationLength: number;
  private readonly optimizer: Adam;
  private readonly gradient: Float64Array;
  private readonly input: FloatArray;
  private nextActions = new Int32Array(0);
  private nextValues = new Float64Array(0);

  constructor(options: QNetworkOptions, params?: ArrayLike<number>) {
    const specs = qNetworkSpecs(options.hidden, options.actions);
    this.online = new Network(specs, [options.observationLength], options.dtype);
    this.target = new Network(specs, [options.observationLength], options.dtype);
    this.actions = options.actions;
    this.observationLength = options.observationLength;
    if (params === undefined) this.online.store.initialize(new Rng(options.seed));
    else this.online.loadParameters(params);
    this.params = Float64Array.from(this.online.store.values);
    this.target.loadParameters(this.params);
    this.optimizer = new Adam(this.params.length);
    this.gradient = new Float64Array(this.params.length);
    this.input = dtypeArray(options.dtype, options.observationLength);
  }

  /** Q-values of one observation (a view, valid until the next forward). */
  values(observation: ArrayLike<number>): FloatArray {
    for (let j = 0; j < this.observationLength; j++) this.input[j] = observation[j]!;
    return this.online.forward({ shape: [1, this.observationLength], data: this.input }, INFERENCE).data;
  }

  /** The greedy action (lowest index among ties). */
  act(observation: ArrayLike<number>): number {
    return argmax(this.values(observation), 0, this.actions);
  }

  /** Replace the online parameters (e.g. the learner's broadcast). */
  setParameters(params: ArrayLike<number>): void {
    this.params.set(params);
    this.online.loadParameters(this.params);
  }

  /** θ' ← τ·θ + (1 − τ)·θ'; τ = 1 copies (a hard update). */
  updateTarget(tau: number): void {
    const target = this.target.store.values;
    if (tau >= 1) {
      target.set(this.params);
      return;
    }
    for (let i = 0; i < target.length; i++) target[i] = tau * this.params[i]! + (1 - tau) * target[i]!;
  }

  /** One gradient step on `batch`; returns the mean loss. */
  train(batch: TransitionBatch, options: UpdateOptions): number {
    const { size, actions: taken, rewards, terminated } = batch;
    const A = this.actions;
    const shape = [size, this.observationLength];
    if (this.nextActions.length !== size) {
      this.nextActions = new Int32Array(size);
      this.nextValues = new Float64Array(size);
    }
    // a* from the online network (Double DQN) or the target one, valued by the target network.
    if (options.double) {
      const online = this.online.forward({ shape, data: batch.nextObservations }, INFERENCE).data;
      for (let i = 0; i < size; i++) this.nextActions[i] = argmax(online, i * A, A);
      const target = this.target.forward({ shape, data: batch.nextObservations }, INFERENCE).data;
      for (let i = 0; i < size; i++) this.nextValues[i] = target[i * A + this.nextActions[i]!]!;
    } else {
      const target = this.target.forward({ shape, data: batch.nextObservations }, INFERENCE).data;
      for (let i = 0; i < size; i++) this.nextValues[i] = target[i * A + argmax(target, i * A, A)]!;
    }
    // The online forward on s comes last: backward uses the input of the layers' last forward.
    const q = this.online.forward({ shape, data: batch.observations }, TRAINING).data;
    const dq = dtypeArray(q instanceof Float32Array ? 'float32' : 'float64', q.length);
    let loss = 0;
    const delta = options.huberDelta ?? 1;
    for (let i = 0; i < size; i++) {
      const y = rewards[i]! + (terminated[i] === 1 ? 0 : options.gamma * this.nextValues[i]!);
      const at = i * A + taken[i]!;
      const d = q[at]! - y;
      if (options.loss === 'huber') {
        loss += huber(d, delta);
        dq[at] = huberDerivative(d, delta) / size;
      } else {
        loss += d * d;
        dq[at] = (2 * d) / size;
      }
    }
    this.online.zeroGradients();
    this.online.backward({ shape: [size, A], data: dq });
    this.gradient.set(this.online.store.gradients);
    if (Number.isFinite(options.maxGradNorm)) clipGlobalNorm(this.gradient, options.maxGradNorm);
    this.optimizer.step(this.params, this.gradient, options.lr);
    this.online.loadParameters(this.params);
    return loss / size;
  }
}

function argmax(values: ArrayLike<number>, at: number, count: number): number {
  let best = 0;
  for (let a = 1; a < count; a++) if (values[at + a]! > values[at + best]!) best = a;
  return best;
}
