/**
 * `shardlearn launch --workers N [--master-port P] [--secret-file F] -- <command>`: run N local
 * ranks of a `cluster` job (see runtime/launch.ts). Returns the exit code: 0 when every rank
 * succeeded, else the first failed rank's.
 *
 * @example
 * shardlearn launch --workers 4 -- train kmeans --data synthetic:blobs?rows=100000 --k 8 --paradigm cluster
 */
import { ConfigError } from '../core/errors.js';
import { launchLocal } from '../runtime/launch.js';
import type { ParsedArgs } from './args.js';
import { takeNumber, takeString } from './args.js';
import { useSecretFile } from './secret-file.js';

export async function launchCommand(args: ParsedArgs): Promise<number> {
  const workers = takeNumber(args, 'workers', (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1') ?? 2;
  const masterPort = takeNumber(args, 'master-port', (n) => Number.isInteger(n) && n >= 1 && n <= 65535, 'a TCP port 1..65535');
  const secretFile = takeString(args, 'secret-file');
  // Checked here (and again by each rank); made SHARDLEARN_SECRET_FILE, so the ranks read this file
  // rather than another one named in the inherited environment.
  useSecretFile(secretFile);
  const unknown = [...args.flags.keys()];
  if (unknown.length > 0)
    throw new ConfigError(`launch does not take --${unknown[0]}; put the command's own flags after \`--\``, { field: unknown[0]! });
  return launchLocal({
    workers,
    command: args.rest,
    ...(masterPort === undefined ? {} : { masterPort }),
    ...(secretFile === undefined ? {} : { secretFile }),
  });
}
