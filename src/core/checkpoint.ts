/**
 * Training checkpoints: one file per checkpoint, data only, never code (no eval, no pickle).
 *
 * Layout (all integers little-endian):
 *
 *   magic  "SLCKPT01"                       8 bytes
 *   header length H                         uint32
 *   header                                  H bytes of UTF-8 JSON (CheckpointHeader)
 *   padding to a multiple of 8              0–7 zero bytes
 *   arrays                                  raw little-endian float64 / uint32 / int32, each at the
 *                                           offset its descriptor names (8-byte aligned)
 *   SHA-256 of every byte above             32 bytes
 *
 * Any changed, missing or added byte fails the digest or the structure checks, so a corrupt or
 * truncated file is refused with a CheckpointError naming it. Files are written through
 * `writeFileAtomic` (exclusive temporary file, fsync, rename, folder fsync): a reader sees a whole
 * checkpoint or none. Names are `ckpt-<step, 12 digits>.slckpt`, so the newest sorts last.
 *
 * @example
 * await saveCheckpoint(dir, { model: 'mlp', step: 120, ... , arrays: { params } }, { keep: 3 });
 * const latest = await loadLatestCheckpoint(dir, (file, error) => console.warn(...));
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { ShardlearnError } from './errors.js';

export const CHECKPOINT_FORMAT_VERSION = 1;
const MAGIC = 'SLCKPT01';
const DIGEST_BYTES = 32;
const NAME_PATTERN = /^ckpt-(\d{12})\.slckpt$/;
/** writeFileAtomic's temporary names for checkpoint files. */
const TEMPORARY_PATTERN = /^\.ckpt-\d{12}\.slckpt\.[0-9a-f]+\.tmp$/;
/** The same for rank-state files (rankStateFileName). */
const RANK_TEMPORARY_PATTERN = /^\.ckpt-(\d{12})\.rank-\d+\.slstate\.[0-9a-f]+\.tmp$/;

export type CheckpointArray = Float64Array | Uint32Array | Int32Array;
type DType = 'float64' | 'uint32' | 'int32';

export interface ArrayDescriptor {
  name: string;
  dtype: DType;
  length: number;
  /** Byte offset from the start of the file. */
  offset: number;
}

/** What a checkpoint says about the run, besides its arrays. Plain JSON data. */
export interface CheckpointMeta {
  /** Registry name of the model (`logistic-regression`, `mlp`, …). */
  model: string;
  /** The model's hyperparameters, compared on resume. */
  params: unknown;
  /** The paradigm's world size when written (informative: a resume may use another). */
  worldSize: number;
  /** The epoch being trained (0-based) and the first position in its batch order not yet trained. */
  epoch: number;
  position: number;
  /** Updates done so far. */
  step: number;
  /** RNG states (xoshiro128** words) the trainer holds, by name. */
  rng: Record<string, number[]>;
  /** Scalar optimizer / strategy state, by name (Adam's t, …). */
  scalars: Record<string, number>;
  /**
   * The strategy and codec the run trained with, and how many ranks wrote a strategy-state file
   * beside this checkpoint (`rankStateFileName`; 0: none). Absent in checkpoints written before
   * strategy state was kept: they load, and the strategy starts fresh.
   */
  strategy?: CheckpointStrategy;
  /** Small JSON state (a rank-state file's strategy data). */
  state?: Record<string, unknown>;
}

export interface CheckpointStrategy {
  name: string;
  codec: string;
  ranks: number;
}

export interface CheckpointHeader extends CheckpointMeta {
  format: typeof MAGIC;
  version: number;
  arrays: ArrayDescriptor[];
}

export interface Checkpoint extends CheckpointMeta {
  arrays: Record<string, CheckpointArray>;
}

/** A checkpoint file that is corrupt, truncated, of another version, or does not fit the run. */
export class CheckpointError extends ShardlearnError {
  constructor(
    readonly file: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super('CHECKPOINT', `checkpoint '${file}': ${detail}`, options);
    this.name = 'CheckpointError';
  }
}

function dtypeOf(array: CheckpointArray): DType {
  if (array instanceof Float64Array) return 'float64';
  if (array instanceof Uint32Array) return 'uint32';
  return 'int32';
}

const align8 = (n: number): number => (n + 7) & ~7;

/** The bytes of `checkpoint` (see the module comment). Pure. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const { arrays, ...meta } = checkpoint;
  const entries = Object.entries(arrays);
  // The header holds the offsets, which depend on the header's length: lay out with a fixed-width
  // offset field first (offsets are written as numbers; recompute until the length is stable).
  let headerBytes = new Uint8Array(0);
  let descriptors: ArrayDescriptor[] = [];
  for (let attempt = 0, guess = 0; attempt < 4; attempt++) {
    let offset = align8(MAGIC.length + 4 + guess);
    descriptors = entries.map(([name, array]) => {
      const descriptor = { name, dtype: dtypeOf(array), length: array.length, offset };
      offset = align8(offset + array.byteLength);
      return descriptor;
    });
    const header: CheckpointHeader = { format: MAGIC, version: CHECKPOINT_FORMAT_VERSION, ...meta, arrays: descriptors };
    headerBytes = new TextEncoder().encode(JSON.stringify(header));
    if (headerBytes.length === guess) break;
    guess = headerBytes.length;
  }
  const dataStart = align8(MAGIC.length + 4 + headerBytes.length);
  let end = dataStart;
  for (const [index, [, array]] of entries.entries()) end = align8(descriptors[index]!.offset + array.byteLength);
  const out = new Uint8Array(end + DIGEST_BYTES);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, headerBytes.length, true);
  out.set(headerBytes, MAGIC.length + 4);
  for (const [index, [, array]] of entries.entries()) {
    const { offset } = descriptors[index]!;
    const view = new DataView(out.buffer, offset, array.byteLength);
    if (array instanceof Float64Array) for (let i = 0; i < array.length; i++) view.setFloat64(i * 8, array[i]!, true);
    else if (array instanceof Uint32Array) for (let i = 0; i < array.length; i++) view.setUint32(i * 4, array[i]!, true);
    else for (let i = 0; i < array.length; i++) view.setInt32(i * 4, array[i]!, true);
  }
  out.set(createHash('sha256').update(out.subarray(0, end)).digest(), end);
  return out;
}

const BYTES: Record<DType, number> = { float64: 8, uint32: 4, int32: 4 };

/** Parse and verify `bytes`; throws a CheckpointError naming `file` on any defect. Pure. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): Checkpoint {
  if (bytes.length < MAGIC.length + 4 + DIGEST_BYTES) throw new CheckpointError(file, `truncated: ${bytes.length} bytes`);
  const end = bytes.length - DIGEST_BYTES;
  const digest = createHash('sha256').update(bytes.subarray(0, end)).digest();
  if (!digest.equals(bytes.subarray(end))) throw new CheckpointError(file, 'SHA-256 mismatch (corrupt or truncated)');
  if (new TextDecoder().decode(bytes.subarray(0, MAGIC.length)) !== MAGIC)
    throw new CheckpointError(file, 'not a shardlearn checkpoint (bad magic)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(MAGIC.length, true);
  if (MAGIC.length + 4 + headerLength > end) throw new CheckpointError(file, `header length ${headerLength} runs past the end`);
  let header: CheckpointHeader;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(MAGIC.length + 4, MAGIC.length + 4 + headerLength)),
    ) as CheckpointHeader;
  } catch (error) {
    throw new CheckpointError(file, 'header is not valid JSON', { cause: error });
  }
  if (header.format !== MAGIC || header.version !== CHECKPOINT_FORMAT_VERSION)
    throw new CheckpointError(file, `format version ${String(header.version)} (this build reads ${CHECKPOINT_FORMAT_VERSION})`);
  const arrays: Record<string, CheckpointArray> = {};
  for (const { name, dtype, length, offset } of header.arrays) {
    const size = BYTES[dtype];
    if (
      size === undefined ||
      !Number.isInteger(length) ||
      !Number.isInteger(offset) ||
      offset < MAGIC.length + 4 + headerLength ||
      offset + length * size > end
    ) {
      throw new CheckpointError(file, `array '${name}' (${dtype}×${length} at ${offset}) does not fit the file`);
    }
    const array = dtype === 'float64' ? new Float64Array(length) : dtype === 'uint32' ? new Uint32Array(length) : new Int32Array(length);
    for (let i = 0; i < length; i++) {
      const at = offset + i * size;
      array[i] = dtype === 'float64' ? view.getFloat64(at, true) : dtype === 'uint32' ? view.getUint32(at, true) : view.getInt32(at, true);
    }
    arrays[name] = array;
  }
  const { model, params, worldSize, epoch, position, step, rng, scalars, strategy, state } = header;
  return {
    model,
    params,
    worldSize,
    epoch,
    position,
    step,
    rng,
    scalars,
    ...(strategy === undefined ? {} : { strategy }),
    ...(state === undefined ? {} : { state }),
    arrays,
  };
}

export function checkpointFileName(step: number): string {
  return `ckpt-${String(step).padStart(12, '0')}.slckpt`;
}

/**
 * Rank `rank`'s strategy-state file of the checkpoint at `step`, beside it in the same folder (same
 * format; not a checkpoint by itself, so `listCheckpoints` passes it by).
 */
export function rankStateFileName(step: number, rank: number): string {
  return `ckpt-${String(step).padStart(12, '0')}.rank-${rank}.slstate`;
}

const RANK_STATE_PATTERN = /^ckpt-(\d{12})\.rank-\d+\.slstate$/;

/** Write rank `rank`'s strategy state of the checkpoint at `checkpoint.step` atomically into `dir`; returns its path. */
export async function saveRankState(dir: string, rank: number, checkpoint: Checkpoint): Promise<string> {
  const path = join(dir, rankStateFileName(checkpoint.step, rank));
  await writeFileAtomic(path, encodeCheckpoint(checkpoint), { createFolder: true });
  return path;
}

/** Rank `rank`'s strategy-state file of the checkpoint at `step`, decoded and verified (CheckpointError naming it when missing or corrupt). */
export async function loadRankState(dir: string, step: number, rank: number): Promise<Checkpoint> {
  const path = join(dir, rankStateFileName(step, rank));
  const bytes = await readFile(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') throw new CheckpointError(path, 'missing (the strategy state of a rank)');
    throw error;
  });
  const checkpoint = decodeCheckpoint(new Uint8Array(bytes), path);
  if (checkpoint.step !== step) throw new CheckpointError(path, `holds step ${checkpoint.step}, expected ${step}`);
  return checkpoint;
}

/** Checkpoint files in `dir`, oldest first (by step). A missing folder has none. */
export async function listCheckpoints(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return names
    .filter((name) => NAME_PATTERN.test(name))
    .sort()
    .map((name) => join(dir, name));
}

export interface SaveOptions {
  /** Keep the newest `keep` checkpoints and delete older ones (0 or absent: keep all). */
  keep?: number;
}

/** Write `checkpoint` atomically into `dir` (created when missing); returns its path. */
export async function saveCheckpoint(dir: string, checkpoint: Checkpoint, options: SaveOptions = {}): Promise<string> {
  const path = join(dir, checkpointFileName(checkpoint.step));
  await writeFileAtomic(path, encodeCheckpoint(checkpoint), { createFolder: true });
  // Temporary files of a writer killed mid-write (only rank 0 writes checkpoints, and its own write
  // is done); of rank-state files, only those of older steps (another rank may be writing this step's).
  const current = String(checkpoint.step).padStart(12, '0');
  for (const name of await readdir(dir)) {
    const rankStep = RANK_TEMPORARY_PATTERN.exec(name)?.[1];
    if (TEMPORARY_PATTERN.test(name) || (rankStep !== undefined && rankStep < current)) await unlink(join(dir, name)).catch(() => undefined);
  }
  const keep = options.keep ?? 0;
  if (keep > 0) {
    const files = await listCheckpoints(dir);
    for (const old of files.slice(0, Math.max(0, files.length - keep))) await unlink(old).catch(() => undefined);
    // Rank-state files older than the oldest checkpoint kept (newer ones may belong to a checkpoint not yet written).
    const oldest = NAME_PATTERN.exec(basename(files[Math.max(0, files.length - keep)] ?? ''))?.[1];
    if (oldest !== undefined) {
      for (const name of await readdir(dir)) {
        const step = RANK_STATE_PATTERN.exec(name)?.[1];
        if (step !== undefined && step < oldest) await unlink(join(dir, name)).catch(() => undefined);
      }
    }
  }
  return path;
}

/**
 * The newest checkpoint in `dir` that decodes and verifies, with its path, or null when there is
 * none. Each newer file that fails is passed to `onSkip` (the caller warns, naming it). `accept`
 * may refuse a checkpoint that decodes, by throwing a CheckpointError (its rank-state files are
 * incomplete): it is skipped like a corrupt one.
 */
export async function loadLatestCheckpoint(
  dir: string,
  onSkip: (file: string, error: CheckpointError) => void = () => undefined,
  accept: (file: string, checkpoint: Checkpoint) => Promise<void> = () => Promise.resolve(),
): Promise<{ path: string; checkpoint: Checkpoint } | null> {
  const files = await listCheckpoints(dir);
  for (let i = files.length - 1; i >= 0; i--) {
    const path = files[i]!;
    try {
      const checkpoint = decodeCheckpoint(new Uint8Array(await readFile(path)), path);
      await accept(path, checkpoint);
      return { path, checkpoint };
    } catch (error) {
      if (error instanceof CheckpointError) onSkip(path, error);
      else if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error; // deleted by --keep meanwhile
    }
  }
  return null;
}
