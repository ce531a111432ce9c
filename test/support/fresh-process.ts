/**
 * Run an ES module `script` in a fresh Node process at the repository's root (not as a rank: the
 * worker entries start one only when told to) and return the JSON its last line of output holds.
 * For what a process pays or loads by importing something, which the test's own process, having
 * imported everything, cannot show.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function jsonFromFreshProcess<T>(script: string): T {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../../..', import.meta.url)),
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, SHARDLEARN_PROCESS_WORKER: '' },
  });
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
