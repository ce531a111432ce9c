/**
 * How a federated client trains any SGD-trained model without a line of model code knowing: the
 * model runs its usual `runSgd` loop on the client's rows in a world of one, and this strategy (the
 * GradientStrategy seam every SGD model already goes through) makes that loop a client round:
 *
 * - `setup` swaps the model's fresh initial vector for the global weights it was sent;
 * - 'local-sgd': each step applies the model's own update rule (its optimizer, clipping, schedule)
 *   to the mean gradient, plus FedProx's μ(w − w_global) when μ > 0; the update is w − w_global;
 * - 'gradient' (FedSGD): steps only sum the gradient, nothing is applied; the update is −mean ∇;
 * - 'fixed': nothing is trained; the model ends with the given weights (the server uses it to learn
 *   the model's initial vector, and to build the model state of the global weights).
 *
 * A model whose trainer never calls `setup` (a closed-form or L-BFGS solver) has not trained by SGD:
 * `update()` then throws a ConfigError saying so.
 *
 * @example
 * const strategy = new FederatedClientStrategy('local-sgd', global, { proximalMu: 0.01 });
 * await model.train(shard, { comm, strategy, report });
 * const delta = strategy.update();
 */
import { ConfigError } from '../core/errors.js';
import type { ApplyUpdate, GradientStrategy } from '../strategies/strategy.js';

export type ClientMode = 'local-sgd' | 'gradient' | 'fixed';

export class FederatedClientStrategy implements GradientStrategy {
  readonly name = 'federated-client';
  /** A world of one: the model draws its batches from its own seeded permutation of the client's rows. */
  readonly synchronous = true;
  /** The model's own initial vector, as `setup` received it (the server's first global weights). */
  initial: Float64Array | null = null;
  private params: Float64Array | null = null;
  private gradientSum: Float64Array | null = null;
  private rows = 0;
  /** Local SGD steps taken. */
  steps = 0;

  constructor(
    private readonly mode: ClientMode,
    /** The weights the client starts from; null in 'fixed' mode means "the model's own initial vector". */
    private readonly global: Float64Array | null,
    private readonly options: { proximalMu?: number; model?: string } = {},
  ) {
    if (mode !== 'fixed' && global === null) throw new ConfigError(`a '${mode}' client needs the global weights`, { field: 'global' });
  }

  setup(initial: Float64Array): Promise<Float64Array> {
    this.initial = Float64Array.from(initial);
    if (this.global !== null && this.global.length !== initial.length)
      return Promise.reject(
        new ConfigError(
          `${this.options.model ?? 'the model'} has ${initial.length} parameters on this client, the global model ${this.global.length}: every client must build the same architecture (same features and classes)`,
          { field: 'global' },
        ),
      );
    this.params = Float64Array.from(this.global ?? initial);
    if (this.mode === 'gradient') this.gradientSum = new Float64Array(initial.length);
    return Promise.resolve(this.params);
  }

  step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    if (count === 0) return Promise.resolve();
    if (this.mode === 'gradient') {
      const sum = this.gradientSum!;
      for (let j = 0; j < sum.length; j++) sum[j]! += gradientSum[j]!;
      this.rows += count;
    } else if (this.mode === 'local-sgd') {
      const scale = 1 / count;
      const mu = this.options.proximalMu ?? 0;
      const global = this.global!;
      for (let j = 0; j < gradientSum.length; j++) gradientSum[j] = gradientSum[j]! * scale + mu * (params[j]! - global[j]!);
      apply(params, gradientSum);
      this.steps++;
    }
    return Promise.resolve();
  }

  finish(params: Float64Array): Promise<void> {
    if (this.mode === 'fixed') params.set(this.global ?? this.initial!);
    return Promise.resolve();
  }

  /** The model's own initial vector; a ConfigError when the model did not train through this strategy. */
  initialWeights(): Float64Array {
    this.checkTrained();
    return this.initial!;
  }

  /** What the client sends: w_local − w_global ('local-sgd') or −mean ∇ ('gradient'). */
  update(): Float64Array {
    this.checkTrained();
    if (this.mode === 'gradient') {
      const delta = new Float64Array(this.gradientSum!.length);
      if (this.rows > 0) for (let j = 0; j < delta.length; j++) delta[j] = -this.gradientSum![j]! / this.rows;
      return delta;
    }
    const global = this.global ?? this.initial!;
    const params = this.params!;
    const delta = new Float64Array(params.length);
    for (let j = 0; j < delta.length; j++) delta[j] = params[j]! - global[j]!;
    return delta;
  }

  private checkTrained(): void {
    if (this.params === null)
      throw new ConfigError(
        `${this.options.model ?? 'the model'} did not train by mini-batch SGD (its solver never asked the strategy for its weights); federated clients train by local SGD: choose the model's SGD solver (e.g. solver=sgd)`,
        { field: 'model' },
      );
  }
}
