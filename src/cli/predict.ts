/**
 * `shardlearn predict --model model.json --data <spec> [--out predictions.csv] [--json]`:
 * apply a saved model (and the preprocessing saved with it) to new rows. Writes one prediction per
 * line (class value, regression value, cluster index, or PCA reconstruction error), and, when the
 * data has labels, prints the metrics. A saved RL policy runs greedy evaluation episodes instead
 * (rl-flags.ts).
 */
import { writeFileAtomic } from '../core/atomic-file.js';
import { ConfigError, FileError } from '../core/errors.js';
import { loadData } from '../data/index.js';
import { evaluate, loadSavedModel } from '../models/index.js';
import type { ParsedArgs } from './args.js';
import { rejectLeftovers, takeString, takeSwitch } from './args.js';
import { applySavedPreprocess, takeLoadOptions } from './data-flags.js';
import type { Output } from './output.js';
import { predictAgentCommand } from './rl-flags.js';

export async function predictCommand(args: ParsedArgs, write: Output): Promise<void> {
  const path = takeString(args, 'model');
  if (path === undefined) throw new ConfigError('--model is required: a file written by `shardlearn train --out`', { field: 'model' });
  const out = takeString(args, 'out');
  const json = takeSwitch(args, 'json');
  const { model, preprocess } = await loadSavedModel(path).catch((error: unknown) => {
    throw FileError.from(error, path, 'read'); // a folder as --model: Node's EISDIR does not name it
  });
  if (model.kind === 'agent') return predictAgentCommand(model, args, json, write);
  const { spec, options } = takeLoadOptions(args);
  rejectLeftovers(args, 'predict');
  const loaded = await loadData(spec, options);
  const data = applySavedPreprocess(loaded.test ?? loaded.train, preprocess);
  const predictions = model.predict(data);
  if (out !== undefined) {
    await writeFileAtomic(out, `prediction\n${Array.from(predictions, (v) => String(v)).join('\n')}\n`);
  }
  const metrics =
    data.y === null || model.kind === 'clusterer' || model.kind === 'decomposition'
      ? evaluateUnlabelled(model, data)
      : evaluate(model, data);
  if (json) write.data(JSON.stringify({ model: model.name, rows: data.rows, metrics, ...(out === undefined ? {} : { out }) }));
  else {
    write(`${model.name}: predicted ${data.rows} rows${out === undefined ? '' : ` into ${out}`}`);
    for (const [metric, value] of Object.entries(metrics)) write(`  ${metric}: ${Array.isArray(value) ? value.join(' ') : value}`);
    if (out === undefined && data.rows <= 20) write(`  predictions: ${Array.from(predictions).join(' ')}`);
  }
}

function evaluateUnlabelled(
  model: Parameters<typeof evaluate>[0],
  data: Parameters<typeof evaluate>[1],
): Record<string, number | number[]> {
  return model.kind === 'clusterer' || model.kind === 'decomposition' ? evaluate(model, data) : {};
}
