/**
 * Feature scaling when each rank holds only its shard (DataSource.scale): the statistics are
 * all-reduced, so every rank applies the scaler fitted on all the training rows at once.
 *
 * Standardization takes two all-reduces, as the whole-data StandardScaler takes two passes: the
 * column sums (→ the mean), then the sums of squared deviations from that mean (→ the standard
 * deviation). The one-round Σx² − n·mean² (StandardScaler.fitStatistics) cancels the digits a
 * column's offset holds: on 2 400 rows of −50 + 0.01·N(0, 1) its deviation was 2.6e-8 off the
 * whole-data one, the two rounds over 2 processes 2.4e-15 (test/runtime/scale-allreduce.test.ts's
 * data). Min–max takes one all-reduce of each: exact.
 *
 * @example
 * const { data, scaler } = await scaleByAllReduce(shard, 'standardize', comm);
 * StandardScaler.fromJSON(scaler).transform(test); // the same scaling for the evaluation rows
 */
import type { Communicator } from '../comm/communicator.js';
import { ConfigError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import { MinMaxScaler, StandardScaler } from '../data/preprocess.js';

export type ScaleKind = 'standardize' | 'minmax';
const SCALE_KINDS: readonly ScaleKind[] = ['standardize', 'minmax'];

/** `kind` if it names a scaling, else a ConfigError naming `source.scale` and the choices. */
export function checkScale(kind: unknown): ScaleKind {
  if ((SCALE_KINDS as readonly unknown[]).includes(kind)) return kind as ScaleKind;
  throw new ConfigError(`source.scale expects one of ${SCALE_KINDS.join(', ')}, got ${JSON.stringify(kind)}`, { field: 'source.scale' });
}

/** This rank's rows scaled by the scaler of all ranks' rows; `scaler` is its toJSON(), the same on every rank. */
export async function scaleByAllReduce(shard: Dataset, kind: ScaleKind, comm: Communicator): Promise<{ data: Dataset; scaler: unknown }> {
  const scaler = checkScale(kind) === 'standardize' ? await standardScaler(shard, comm) : await minMaxScaler(shard, comm);
  return { data: scaler.transform(shard), scaler: scaler.toJSON() };
}

async function standardScaler(shard: Dataset, comm: Communicator): Promise<StandardScaler> {
  const { rows, cols, x } = shard;
  const sums = new Float64Array(cols + 1); // [count, Σ column 0, Σ column 1, …]
  sums[0] = rows;
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) sums[j + 1]! += x[i * cols + j]!;
  await comm.allReduce(sums, 'sum');
  const count = Math.max(sums[0]!, 1);
  const mean = new Float64Array(cols);
  for (let j = 0; j < cols; j++) mean[j] = sums[j + 1]! / count;
  const squares = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const d = x[i * cols + j]! - mean[j]!;
      squares[j]! += d * d;
    }
  }
  await comm.allReduce(squares, 'sum');
  const std = squares.map((s) => Math.sqrt(s / count));
  return StandardScaler.fromJSON({ name: 'StandardScaler', offset: [...mean], scale: [...std] });
}

async function minMaxScaler(shard: Dataset, comm: Communicator): Promise<MinMaxScaler> {
  const { rows, cols, x } = shard;
  const min = new Float64Array(cols).fill(Infinity);
  const max = new Float64Array(cols).fill(-Infinity);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = x[i * cols + j]!;
      if (v < min[j]!) min[j] = v;
      if (v > max[j]!) max[j] = v;
    }
  }
  await comm.allReduce(min, 'min');
  await comm.allReduce(max, 'max');
  return MinMaxScaler.fromJSON({ name: 'MinMaxScaler', offset: [...min], scale: [...max.map((m, j) => m - min[j]!)] });
}
