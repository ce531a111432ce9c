/**
 * `npm run bench`: every benchmark in turn, each in its own process (so one's memory and JIT state
 * do not colour the next), each writing its figures to bench/results/<name>.json.
 * BENCH_ONLY=foundation,threads runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const all = ['foundation', 'threads', 'kernels', 'kernels-threads', 'kernels-e2e'];
const only = process.env['BENCH_ONLY']?.split(',') ?? all;
let failed = 0;
for (const name of all.filter((n) => only.includes(n))) {
  const script = join(here, `${name}.js`);
  if (!existsSync(script)) continue;
  console.log(`\n== bench: ${name}`);
  const result = spawnSync(process.execPath, [script], { stdio: 'inherit' });
  if (result.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
