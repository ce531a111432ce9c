// The atomic writer against the real file system: a planted symlink at the temporary name is not
// followed, a failed rename leaves no temporary file, a folder as destination is a clear FileError,
// and an existing file is replaced whole (its permissions kept).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../../src/core/atomic-file.js';
import { FileError } from '../../src/core/errors.js';

function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-atomic-'));
  return body(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

test('a symlink planted at the temporary name is not followed: its target is untouched and another name is taken', () =>
  withDir(async (dir) => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    const out = join(dir, 'model.json');
    symlinkSync(victim, join(dir, '.model.json.planted.tmp'));
    const names = ['planted', 'fresh'];
    await writeFileAtomic(out, 'new content', { randomName: () => names.shift()! });
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
    assert.equal(readFileSync(out, 'utf8'), 'new content');
    assert.ok(lstatSync(join(dir, '.model.json.planted.tmp')).isSymbolicLink(), "the planted link is someone else's: left alone");
    assert.deepEqual(readdirSync(dir).sort(), ['.model.json.planted.tmp', 'model.json', 'victim.txt']);
  }));

test('when every temporary name is taken the write fails naming the destination, writing nothing', () =>
  withDir(async (dir) => {
    const victim = join(dir, 'victim.txt');
    writeFileSync(victim, 'precious');
    symlinkSync(victim, join(dir, '.out.csv.same.tmp'));
    await assert.rejects(
      writeFileAtomic(join(dir, 'out.csv'), 'x', { randomName: () => 'same' }),
      (e: unknown) => e instanceof FileError && e.systemCode === 'EEXIST' && e.message.includes(join(dir, 'out.csv')),
    );
    assert.equal(readFileSync(victim, 'utf8'), 'precious');
  }));

test('a folder as destination: the rename fails, the temporary file is removed, the error says it is a folder', () =>
  withDir(async (dir) => {
    const folder = join(dir, 'results');
    mkdirSync(folder);
    writeFileSync(join(folder, 'keep.txt'), 'k');
    await assert.rejects(
      writeFileAtomic(folder, 'data'),
      (e: unknown) =>
        e instanceof FileError && e.code === 'FILE' && e.systemCode === 'EISDIR' && e.path === folder && /is a folder/.test(e.message),
    );
    assert.deepEqual(readdirSync(dir), ['results'], 'no temporary file left beside it');
    assert.deepEqual(readdirSync(folder), ['keep.txt']);
    await assert.rejects(writeFileAtomic(`${folder}/`, 'data'), (e: unknown) => e instanceof FileError && /folder/.test(e.message));
  }));

test('a missing folder is a FileError naming it; an existing file is replaced whole with its permissions kept', () =>
  withDir(async (dir) => {
    await assert.rejects(
      writeFileAtomic(join(dir, 'no', 'such', 'm.json'), 'x'),
      (e: unknown) => e instanceof FileError && e.systemCode === 'ENOENT' && e.message.includes(join(dir, 'no', 'such')),
    );
    const out = join(dir, 'm.json');
    writeFileSync(out, 'old old old old old');
    chmodSync(out, 0o600);
    const before = statSync(out).ino;
    await writeFileAtomic(out, 'new');
    assert.equal(readFileSync(out, 'utf8'), 'new');
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.notEqual(statSync(out).ino, before, 'a new file renamed into place, not the old one rewritten');
    assert.deepEqual(readdirSync(dir), ['m.json']);
    // A symlink at the destination is replaced by the file; the link's target is not written.
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'target');
    const link = join(dir, 'link.json');
    symlinkSync(target, link);
    await writeFileAtomic(link, 'through?');
    assert.equal(readFileSync(target, 'utf8'), 'target');
    assert.ok(lstatSync(link).isFile());
    await writeFileAtomic(join(dir, 'made', 'r.html'), '<p>', { createFolder: true });
    assert.equal(readFileSync(join(dir, 'made', 'r.html'), 'utf8'), '<p>');
  }));
