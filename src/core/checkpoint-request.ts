/**
 * A checkpoint asked for from outside the training loop — Slurm's `--signal=USR1@N` before the time
 * limit, a preemption notice — rather than by the policy's interval. The runtime records the request
 * (runtime/slurm.ts on SIGUSR1); rank 0's SGD loop takes it after its current update and writes a
 * checkpoint then, whatever the interval (models/solvers/sgd-checkpoint.ts). One per process: a
 * request is a fact about the process (it got the signal), not about one fit.
 *
 * @example
 * process.on('SIGUSR1', () => requestCheckpoint('SIGUSR1'));
 * // in the loop, after an update: if (takeCheckpointRequest() !== undefined) await write(...)
 */

let pending: string | undefined;

/** Ask for a checkpoint after the current update; `reason` is said in the line that reports it. */
export function requestCheckpoint(reason: string): void {
  pending = reason;
}

/** The pending request's reason, clearing it; undefined when none is pending. */
export function takeCheckpointRequest(): string | undefined {
  const reason = pending;
  pending = undefined;
  return reason;
}
