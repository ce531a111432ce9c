// Build native/map-file.c into dist/native/map-file.node with the machine's C compiler and Node's
// own headers (node_api.h beside the running node). Optional: where no compiler or header is found,
// or the build fails, it says so and exits 0, and the lane board and the shard files are read and
// written instead of mapped (src/core/mapped-file.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'native', 'map-file.c');
const out = join(root, 'dist', 'native', 'map-file.node');
const headers = [join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node', '/usr/local/include/node'].find((dir) =>
  existsSync(join(dir, 'node_api.h')),
);
const compiler = process.env.CC ?? 'cc';
if (process.platform !== 'linux') skip(`not built on ${process.platform}: files are mapped on Linux only`);
else if (headers === undefined) skip(`Node's headers (node_api.h) were not found beside ${process.execPath}`);
else {
  mkdirSync(dirname(out), { recursive: true });
  const args = ['-O2', '-shared', '-fPIC', '-Wall', '-Werror', '-I', headers, '-o', out, source];
  const built = spawnSync(compiler, args, { encoding: 'utf8' });
  if (built.error !== undefined) skip(`${compiler} could not run (${built.error.message})`);
  else if (built.status !== 0) skip(`${compiler} failed:\n${built.stderr}`);
}

function skip(why) {
  console.warn(`build-native: ${why}; the lane board and shard files will be read and written instead of mapped`);
}
