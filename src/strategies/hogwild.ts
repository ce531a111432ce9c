/**
 * Hogwild! (Niu, Recht, Ré & Wright, NIPS 2011): lock-free asynchronous SGD. Every worker reads and
 * writes one parameter vector in shared memory with no locks at all — each samples its own shard
 * at its own pace and applies its update straight into the shared vector. Reads may see a mix of
 * other workers' half-finished updates; the paper proves SGD still converges at nearly the serial
 * rate when updates are sparse or few workers collide, and that is the whole point: no waiting.
 *
 * The shared vector is the runtime's parameter arena (`StrategyEnvironment.sharedParams`, a
 * Float64Array over a SharedArrayBuffer every thread maps). With a world of one and no arena (the
 * `sequential` paradigm) it is plain SGD. Across processes there is no shared memory, so it refuses.
 *
 * Not bitwise reproducible with more than one worker (the interleaving of updates is the OS
 * scheduler's); compare it to sequential by accuracy, not by bits.
 *
 * @example
 * await new LogisticRegression({ solver: 'sgd' }).fit(data, { paradigm: 'threads', workers: 2, strategy: 'hogwild' });
 */
import type { Communicator } from '../comm/communicator.js';
import { ConfigError } from '../core/errors.js';
import type { ApplyUpdate, GradientStrategy } from './strategy.js';

export class HogwildStrategy implements GradientStrategy {
  readonly name = 'hogwild';
  readonly synchronous = false;
  /** Every rank's update lands in the one shared vector: the step size schedule counts them all. */
  readonly sharedUpdates = true;

  constructor(
    private readonly comm: Communicator,
    private readonly arena: Float64Array | undefined,
  ) {}

  async setup(initial: Float64Array): Promise<Float64Array> {
    if (this.arena === undefined) {
      if (this.comm.size === 1) return initial; // sequential: plain SGD on the trainer's own vector
      throw new ConfigError(
        `the hogwild strategy needs parameters in shared memory, which this paradigm (${this.comm.size} workers without a shared arena) does not provide; ` +
          `use --paradigm threads, or --strategy allreduce across processes`,
        { field: 'strategy' },
      );
    }
    if (initial.length > this.arena.length) {
      throw new ConfigError(
        `hogwild: the model has ${initial.length} parameters but the shared arena holds ${this.arena.length}; use a smaller model or the allreduce strategy`,
        { field: 'strategy' },
      );
    }
    const shared = this.arena.subarray(0, initial.length);
    if (this.comm.rank === 0) shared.set(initial);
    await this.comm.barrier(); // nobody trains before rank 0 has written the starting point
    return shared;
  }

  step(params: Float64Array, gradientSum: Float64Array, count: number, apply: ApplyUpdate): Promise<void> {
    if (count === 0) return Promise.resolve();
    const scale = 1 / count;
    for (let i = 0; i < gradientSum.length; i++) gradientSum[i]! *= scale;
    apply(params, gradientSum); // straight into the shared vector, no lock: that is Hogwild
    return Promise.resolve();
  }

  async finish(_params: Float64Array): Promise<void> {
    // Every rank's last update has landed before anyone reads the final vector.
    if (this.comm.size > 1) await this.comm.barrier();
  }
}
