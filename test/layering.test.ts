// Keeps DESIGN.md's "who may import whom" true: every relative import in src/ is checked against
// the layer table below. models may use strategies/ and comm/ through `import type` only, except comm/collectives/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

const allowed: Record<string, string[]> = {
  cli: ['compare', 'automl', 'runtime', 'federated', 'models', 'data', 'core'],
  compare: ['automl', 'runtime', 'models', 'data', 'core'],
  automl: ['runtime', 'models', 'data', 'core'],
  runtime: ['federated', 'models', 'strategies', 'comm', 'data', 'core'],
  federated: ['models', 'nn', 'strategies', 'data', 'comm', 'core'],
  models: ['nn', 'rl', 'data', 'core'],
  strategies: ['comm', 'core'],
  nn: ['core'],
  rl: ['core'],
  data: ['core'],
  comm: ['core'],
  core: [],
};
const typeOnly: Record<string, string[]> = { models: ['strategies', 'comm', 'federated'] };
/**
 * Folders a layer may import values from although their layer is type-only for it: the collectives
 * are algorithms written on the Communicator interface (no transport), and the neural pipeline
 * trainer sums a stage's gradient over its replicas with groupAllReduce.
 */
const valueFolders: Record<string, string[]> = { models: ['comm/collectives'] };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

test('imports follow the layer table of DESIGN.md', () => {
  const violations: string[] = [];
  for (const file of sources(root)) {
    const layer = relative(root, file).split('/')[0]!;
    if (layer.endsWith('.ts')) continue; // src/index.ts: the public entry may import everything
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const path = relative(root, resolve(dirname(file), match[3]!));
      const target = path.split('/')[0]!;
      if (target === layer) continue;
      const isType = match[2] !== undefined;
      const ok =
        (allowed[layer] ?? []).includes(target) ||
        (isType && (typeOnly[layer] ?? []).includes(target)) ||
        (valueFolders[layer] ?? []).some((folder) => path.startsWith(`${folder}/`));
      if (!ok) violations.push(`${relative(root, file)} imports ${match[3]} (${layer} → ${target}${isType ? ', type' : ''})`);
    }
    for (const match of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)) {
      const target = relative(root, resolve(dirname(file), match[1]!)).split('/')[0]!;
      if (target !== layer && !(allowed[layer] ?? []).includes(target))
        violations.push(`${relative(root, file)} dynamically imports ${match[1]}`);
    }
  }
  assert.deepEqual(violations, []);
});

/** Every relative import of a source file (static, type-only and dynamic), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...[...text.matchAll(/^\s*(?:import|export)\s+(?:type\s+)?[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/^\s*import\s+'(\.[^']+)'/gm)].map((m) => m[1]!),
    ...[...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) => m[1]!),
  ];
  return specs.map((spec) => resolve(dirname(file), spec).replace(/\.js$/, '.ts'));
}

test('no import cycles among the source files (type-only imports included)', () => {
  const files = sources(root);
  const graph = new Map(files.map((file) => [file, importsOf(file).filter((target) => files.includes(target))]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === 'open')
        cycles.push([...path.slice(path.indexOf(next)), file, next].map((f) => relative(root, f)).join(' → '));
      else if (state.get(next) === undefined) visit(next, [...path, file]);
    }
    state.set(file, 'done');
  };
  for (const file of files) if (state.get(file) === undefined) visit(file, []);
  assert.deepEqual(cycles, []);
});
