/**
 * `shardlearn info`: what this build offers — models, paradigms, strategies, kernel backends (and
 * which one is active), and the machine. Each model's options come from its schema (`optionDocs`).
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { kernelBackends, kernels } from '../core/kernels.js';
import { SUPPORTED_FORMATS } from '../data/index.js';
import { availableParadigms, modelEntry, modelNames, optionDocs } from '../models/index.js';
import { strategyNames } from '../runtime/index.js';
import { kebabCase } from './args.js';
import type { ParsedArgs } from './args.js';
import { rejectLeftovers, takeSwitch } from './args.js';
import type { Output } from './output.js';
import { packageVersion } from './version.js';

/** Which WASM build is in use ('relaxed': fused multiply-add, or 'plain'), when the WASM backend is. */
function wasmSimd(): { simd?: string } {
  const active = kernels() as { simd?: unknown };
  return typeof active.simd === 'string' ? { simd: active.simd } : {};
}

export function infoCommand(args: ParsedArgs, write: Output): void {
  const json = takeSwitch(args, 'json');
  rejectLeftovers(args, 'info');
  const info = {
    version: packageVersion(),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernels: { active: kernels().name, available: kernelBackends(), ...wasmSimd() },
    paradigms: availableParadigms(),
    strategies: strategyNames(),
    models: modelNames().map((name) => ({
      name,
      kind: modelEntry(name).kind,
      summary: modelEntry(name).summary,
      options: optionDocs(name),
    })),
    formats: SUPPORTED_FORMATS,
  };
  if (json) {
    write.data(JSON.stringify(info));
    return;
  }
  write(`shardlearn ${info.version} on Node ${info.node}, ${info.cpus} CPUs (${info.cpuModel}), ${info.memoryGiB} GiB`);
  const simd = info.kernels.simd === undefined ? '' : ` ${info.kernels.simd} SIMD`;
  write(`kernels:    ${info.kernels.active}${simd} (available: ${info.kernels.available.join(', ')})`);
  write(`paradigms:  ${info.paradigms.join(', ')}`);
  write(`strategies: ${info.strategies.join(', ')}`);
  write('models:');
  for (const model of info.models) {
    write(`  ${model.name.padEnd(22)} ${model.kind.padEnd(14)} ${model.summary}`);
    if (model.options.length > 0)
      write(`  ${''.padEnd(22)} options: ${model.options.map((option) => `--${kebabCase(option.name)}`).join(' ')}`);
  }
  write(`data:       ${info.formats}`);
}
