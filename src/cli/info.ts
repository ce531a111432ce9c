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

/** Which WASM build is in use ('relaxed': fused multiply-add, or 'plain'), when the WASM backend is. */
function wasmSimd(): { simd?: string } {
  const active = kernels() as { simd?: unknown };
  return typeof active.simd === 'string' ? { simd: active.simd } : {};
}

export function infoCommand(write: (line: string) => void, json: boolean): void {
  const info = {
    version: process.env['npm_package_version'] ?? 'see package.json',
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernels: { active: kernels().name, available: kernelBackends(), ...wasmSimd() },
    paradigms: availableParadigms(),
    strategies: strategyNames(),
    models: modelNames().map((name) => ({ name, kind: modelEntry(name).kind, summary: modelEntry(name).summary, options: optionDocs(name) })),
    formats: SUPPORTED_FORMATS,
  };
  if (json) {
    write(JSON.stringify(info));
    return;
  }
  write(`shardlearn on Node ${info.node}, ${info.cpus} CPUs (${info.cpuModel}), ${info.memoryGiB} GiB`);
  const simd = info.kernels.simd === undefined ? '' : ` ${info.kernels.simd} SIMD`;
  write(`kernels:    ${info.kernels.active}${simd} (available: ${info.kernels.available.join(', ')})`);
  write(`paradigms:  ${info.paradigms.join(', ')}`);
  write(`strategies: ${info.strategies.join(', ')}`);
  write('models:');
  for (const model of info.models) {
    write(`  ${model.name.padEnd(22)} ${model.kind.padEnd(14)} ${model.summary}`);
    if (model.options.length > 0) write(`  ${''.padEnd(22)} options: ${model.options.map((option) => `--${kebabCase(option.name)}`).join(' ')}`);
  }
  write(`data:       ${info.formats}`);
}
