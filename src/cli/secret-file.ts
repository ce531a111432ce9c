/**
 * `--secret-file <path>` (train under `cluster`, launch): the job secret read from a file, refused
 * when the file is open to its group or to others — ssh's rule for private keys ("Permissions 0644
 * for 'id_ed25519' are too open"), since anyone who can read the secret can join the job and read
 * every gradient. The file itself is read by comm/zmq/security.ts's readSecret, which takes
 * SHARDLEARN_SECRET_FILE over SHARDLEARN_SECRET.
 *
 * @example
 * checkSecretFile('/secure/job.secret'); // ConfigError unless a regular file with mode 0600 or 0400
 */
import { statSync } from 'node:fs';
import { ConfigError, FileError } from '../core/errors.js';

/** Throws unless `path` is a regular file no one but its owner may read, write or run. */
export function checkSecretFile(path: string, named = '--secret-file'): void {
  let mode: number;
  let isFile: boolean;
  try {
    const stats = statSync(path);
    mode = stats.mode & 0o777;
    isFile = stats.isFile();
  } catch (error) {
    throw FileError.from(error, path, 'read');
  }
  if (!isFile) throw new ConfigError(`${named} '${path}' is not a regular file`, { field: 'secret-file' });
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `${named} '${path}' is accessible by its group or others (mode ${mode.toString(8).padStart(4, '0')}); the job secret must be private: chmod 600 '${path}'`,
      { field: 'secret-file' },
    );
  }
}

/**
 * The secret file a cluster rank will use — `--secret-file`, else SHARDLEARN_SECRET_FILE — checked,
 * and made the one readSecret reads. Returns the path, or undefined when the secret comes from
 * SHARDLEARN_SECRET.
 */
export function useSecretFile(flagValue: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env['SHARDLEARN_SECRET_FILE'];
  const path = flagValue ?? (fromEnv === '' ? undefined : fromEnv);
  if (path === undefined) return undefined;
  checkSecretFile(path, flagValue === undefined ? 'SHARDLEARN_SECRET_FILE' : '--secret-file');
  env['SHARDLEARN_SECRET_FILE'] = path;
  return path;
}
