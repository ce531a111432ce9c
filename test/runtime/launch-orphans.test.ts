// `shardlearn launch` killed by SIGKILL cannot forward the signal nor reap its ranks: they must
// notice on their own (runtime/launcher-link.ts) and stop within seconds, not train on to the end.
// The real CLI, a real long cluster training, a real SIGKILL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/shardlearn.js');
const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Running (not zombie) processes whose parent is `parent`. */
function childrenOf(parent: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/<pid>/stat: pid (comm) state ppid ...; comm may hold spaces, so read after the last ')'.
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(')').at(-1)!.trim().split(' ');
      if (Number(fields[1]) === parent && fields[0] !== 'Z') found.push(Number(entry));
    } catch {
      // exited while listing
    }
  }
  return found;
}

/** Whether `pid` still runs (a zombie waiting for a reaper that is not ours counts as gone). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(')').at(-1)!.trim()[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitFor<T>(what: string, withinMs: number, probe: () => T | null): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${withinMs} ms`);
    await sleep(100);
  }
}

test('a launcher killed by SIGKILL takes its ranks with it within seconds', async (t) => {
  // A training of minutes: 2000 epochs of SGD (20 take ~8 s on this machine).
  const launcher = spawn(
    process.execPath,
    [
      bin,
      'launch',
      '--workers',
      '2',
      '--',
      'train',
      'logistic-regression',
      '--data',
      'synthetic:classification?rows=20000&cols=10&seed=1',
      '--solver',
      'sgd',
      '--epochs',
      '2000',
      '--paradigm',
      'cluster',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  launcher.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  let ranks: number[] = [];
  try {
    ranks = await waitFor('both ranks started', 20_000, () => {
      const found = childrenOf(launcher.pid!);
      return found.length === 2 ? found : null;
    });
    await sleep(3000); // joined and training (or still loading: either way, past the start-up)
    assert.ok(ranks.every(running), `both ranks still train before the kill; launcher stderr:\n${stderr}`);
    const killed = Date.now();
    launcher.kill('SIGKILL');
    await waitFor(`ranks ${ranks.join(', ')} gone after the launcher's SIGKILL`, 10_000, () => (ranks.some(running) ? null : true));
    const stoppedMs = Date.now() - killed;
    t.diagnostic(`both ranks gone ${stoppedMs} ms after the launcher's SIGKILL`);
  } finally {
    launcher.kill('SIGKILL');
    for (const pid of ranks) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
