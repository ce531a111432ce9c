/**
 * What a federated server combines each round: the clients' model deltas (new local weights minus the
 * global weights they started from), each with its weight (the client's number of training examples).
 */
export interface ClientUpdate {
  client: number;
  delta: Float64Array;
  weight: number;
}

/** A server-side rule that turns one round's client updates into the step applied to the global model. */
export interface Aggregator {
  readonly name: string;
  /** The step to add to `global` (a new array; inputs are not modified). */
  aggregate(updates: readonly ClientUpdate[], global: Float64Array, round: number): Float64Array;
}
