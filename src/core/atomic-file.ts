/**
 * Writing a file so that readers see the old content or the new, never half of it, and so that no
 * one else's file is touched on the way: the one helper behind every file shardlearn writes (saved
 * models, predictions, reports, exports).
 *
 * 1. Exclusive create (`wx`: O_CREAT|O_EXCL, which also refuses to follow a symlink) of a temporary
 *    file with an unpredictable name in the destination's folder, so the rename stays on one file
 *    system. The former `${path}.tmp-${pid}` was guessable: a symlink planted there made the write
 *    overwrite the link's target.
 * 2. Write, fsync the file, close, rename over the destination, fsync the folder (the rename is
 *    durable only once the folder's entry is, as in SQLite's and PostgreSQL's atomic writes).
 * 3. On any failure the temporary file is removed and a FileError names the destination.
 *
 * A destination that is a folder fails at the rename (EISDIR) with a message saying so; a
 * destination that is a symlink is replaced by the file (the link's target is not written).
 *
 * @example
 * await writeFileAtomic('model.json', JSON.stringify(document));
 */
import { randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FileError } from './errors.js';

export interface AtomicWriteOptions {
  /** Create the destination's folder (and its parents) when missing. Default false: a missing folder is an error. */
  createFolder?: boolean;
  /**
   * The random part of the temporary name. Default: 12 bytes from the OS CSPRNG (not the seeded RNG:
   * this name must be unguessable, not reproducible). Tests pass their own to plant a file there.
   */
  randomName?: () => string;
}

/** How many fresh names to try when one already exists (a planted file, or a 2⁻⁹⁶ collision). */
const CREATE_ATTEMPTS = 4;

function temporaryPath(path: string, random: string): string {
  return join(dirname(path), `.${basename(path)}.${random}.tmp`);
}

async function createExclusive(path: string, randomName: () => string, mode: number): Promise<{ handle: FileHandle; temporary: string }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
    const temporary = temporaryPath(path, randomName());
    try {
      return { handle: await open(temporary, 'wx', mode), temporary };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      lastError = error; // someone else's file or link: leave it alone and take another name
    }
  }
  throw lastError;
}

/** Write `data` to `path` atomically (see the module comment). Throws a FileError naming `path`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  if (path === '' || path.endsWith('/')) throw new FileError(path, 'EISDIR', 'write', 'expected a file name, found a folder path');
  const folder = dirname(path);
  const randomName = options.randomName ?? ((): string => randomBytes(12).toString('hex'));
  let temporary: string | null = null;
  try {
    if (options.createFolder === true) await mkdir(folder, { recursive: true });
    // Keep the permissions of a file being replaced (a model saved 0600 stays 0600). A folder at
    // `path` is not refused here: the rename refuses it (EISDIR), through the same clean-up path.
    const existing = await stat(path).catch(() => null);
    const mode = existing === null || !existing.isFile() ? 0o666 : existing.mode & 0o777;
    const created = await createExclusive(path, randomName, mode);
    temporary = created.temporary;
    try {
      await created.handle.writeFile(data);
      await created.handle.sync();
    } finally {
      await created.handle.close();
    }
    await rename(temporary, path);
    temporary = null;
    await syncFolder(folder);
  } catch (error) {
    if (temporary !== null) await unlink(temporary).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new FileError(path, 'ENOENT', 'write', `the folder '${folder}' does not exist`, { cause: error });
    throw FileError.from(error, path, 'write');
  }
}

/** File systems that cannot fsync a folder answer EINVAL or ENOTSUP: the rename stands, unsynced. */
const FOLDER_SYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', 'EPERM']);

async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } catch (error) {
    if (!FOLDER_SYNC_UNSUPPORTED.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
  } finally {
    await handle.close();
  }
}
