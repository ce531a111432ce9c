// Stragglers: a worker process SIGSTOPped for 2 s mid-run makes the others' synchronous collective
// warn, naming it, after the --straggler-warning delay (0.3 s here; Horovod's is 60 s); after SIGCONT
// the run completes. The warning is a log line of the waiting ranks, so the fit runs in a child
// process whose stderr the test reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';

const FIT = new URL('./fixtures/straggler-fit.js', import.meta.url).pathname;

test('a SIGSTOPped worker is named by the others’ straggler warning; after SIGCONT the run completes', async () => {
  const child = spawn(process.execPath, [FIT, 'run'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let stopped = 0;
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    const workers = /workers (\d+) (\d+) (\d+)/.exec(stdout);
    if (workers === null || stopped !== 0) return;
    stopped = Number(workers[2]); // rank 1
    process.kill(stopped, 'SIGSTOP');
    setTimeout(() => process.kill(stopped, 'SIGCONT'), 2000);
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(guard);
  assert.notEqual(stopped, 0, 'a worker was stopped');
  assert.equal(code, 0, stderr);
  assert.match(stdout, /done 0\.9/, 'the run completed and scores as usual');
  // Ranks 0 and 2 warn about rank 1 (on a loaded machine other waits may pass 0.3 s too, and say so).
  const named = stderr
    .split('\n')
    .filter((line) => /^\[shardlearn rank [02]\] straggler: .* has waited \d+\.\d s for rank 1 \(/.test(line));
  assert.ok(named.length >= 1, `no straggler warning naming rank 1 in:\n${stderr}`);
});
