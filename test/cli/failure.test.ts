// How failures become one line and an exit code, from real errors the OS gives (no made-up objects):
// file-system errors are exit 5 naming the path, DNS failures exit 4 naming the host.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommError, ConfigError, FileError } from '../../src/core/errors.js';
import { EXIT, describeFailure, exitCodeFor } from '../../src/cli/failure.js';

function caught(body: () => unknown): unknown {
  try {
    body();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

test('file-system errors (EISDIR, ENOENT, ENOTDIR, ENOSPC) are exit 5, naming the path when Node gives one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-failure-'));
  try {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    const cases: [unknown, RegExp][] = [
      [caught(() => readFileSync(dir)), /file-system error: EISDIR/], // read(2) of a folder: Node names no path
      [caught(() => readFileSync(join(dir, 'missing.json'))), /cannot access '.*missing\.json': no such file or folder/],
      [caught(() => writeFileSync(join(file, 'below'), 'x')), /cannot access '.*plain\.txt\/below': a part of the path is not a folder/],
      [caught(() => writeFileSync('/dev/full', 'x')), /file-system error: ENOSPC/], // write(2): no path either; writeFileAtomic names it
    ];
    for (const [error, message] of cases) {
      assert.equal(exitCodeFor(error), EXIT.file, String(error));
      assert.match(describeFailure(error), message);
      assert.doesNotMatch(describeFailure(error), /internal error/);
    }
    assert.equal(exitCodeFor(new FileError('/x', 'EACCES', 'write')), 5);
    assert.equal(describeFailure(new FileError('/x', 'EACCES', 'write')), "shardlearn: cannot write '/x': permission denied");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a host that does not resolve is exit 4 naming the host; a CommError with a host says it', async () => {
  const error = await lookup('no-such-host.invalid').then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(error !== null, '.invalid never resolves (RFC 6761)');
  assert.equal(exitCodeFor(error), EXIT.runtime);
  assert.match(describeFailure(error), /cannot resolve host 'no-such-host\.invalid'/);
  assert.equal(
    describeFailure(new CommError('TIMEOUT', 'rank 1 did not answer', { rank: 1, host: '10.0.0.2' })),
    'shardlearn: rank 1 did not answer (host 10.0.0.2)',
  );
  assert.equal(
    describeFailure(new CommError('TIMEOUT', 'rank 1 at 10.0.0.2 did not answer', { host: '10.0.0.2' })),
    'shardlearn: rank 1 at 10.0.0.2 did not answer',
  );
  assert.equal(exitCodeFor(new ConfigError('x')), EXIT.usage);
  assert.equal(exitCodeFor(new Error('a bug')), EXIT.bug);
  assert.match(describeFailure(new Error('a bug')), /internal error: a bug/);
});
