/**
 * Compressed federated uploads (`--compression <codec>` under `--paradigm federated`): each client
 * sends its update (its model delta, or FedSGD's gradient) through a gradient codec (comm/codecs) as
 * one wire byte frame; the server decodes it with the codec it expects before any aggregation. The
 * server's downloads (the global weights) stay dense float64: a client must start from the exact
 * global model, and Flower, FedML and the literature (Sattler et al. 2019, "Sparse ternary
 * compression"; Rothchild et al. 2020, FetchSGD) compress the upload, the link that is scarce.
 *
 * Error feedback (on by default for the biased codecs, `--client-error-feedback off` to drop it):
 * what a client's codec drops is owed by that client, so its residual (and DGC's velocity, and
 * PowerSGD's warm-started Q) lives with the client, on the host that runs it, and is added to the
 * client's next update when it is sampled again (Sattler et al. 2019 accumulate on the clients the
 * same way). Memory stays bounded by what was sampled: a client's memory is created at its first
 * sampled round, never for a client that was not sampled, and kept in float32 — at most
 * 4·d bytes per client ever sampled (d the parameter count; DGC momentum doubles it). With 1,000
 * clients of a 100k-parameter model that is ≤ 400 MB spread over the hosts; turn it off for larger
 * federations, which then compress each update on its own (residual dropped, no memory at all).
 *
 * The codec's random stream (random-k, QSGD, TernGrad) is the client's seed of the round forked by
 * the client id, so an upload is the same on every client host: inline, threads and processes give
 * the same model for a fixed seed.
 *
 * @example
 * const encoder = new UploadEncoder({ codec: 'topk16:0.01', warmupRounds: 0, errorFeedback: true });
 * const bytes = encoder.encode({ round, client, seed }, delta);
 * const delta2 = decodeUpload(createCodec('topk16:0.01'), { client, arrays: [], bytes: [bytes] }, delta.length);
 */
import type { Codec } from '../comm/codecs/index.js';
import { createCodec } from '../comm/codecs/index.js';
import { CommError } from '../core/errors.js';
import type { FloatArray } from '../core/storage.js';

/** How clients compress their uploads (ClientJob.upload). Serialisable. */
export interface UploadSettings {
  /** The codec spec, as `--compression` takes it ('topk16:0.01'); never 'none' (dense uploads carry no settings). */
  codec: string;
  /** `--compression-warmup`, counted in rounds here (a client's round r is the codec's epoch r − 1). */
  warmupRounds: number;
  /** Whether a biased codec's residual is kept per client between its sampled rounds. */
  errorFeedback: boolean;
}

/** What one client's codec carries from one sampled round to the next (float32: half the memory). */
interface ClientMemory {
  residual: Float32Array | null;
  velocity: Float32Array | null;
  q: Float64Array | null;
}

/** Whether clients under `settings` keep memory between rounds (so a client must always run on the same host). */
export function keepsClientMemory(settings: UploadSettings | null): boolean {
  return settings !== null && settings.errorFeedback && createCodec(settings.codec).errorFeedback;
}

/** A client host's encoder: the codec, and the memory of the clients this host has run. */
export class UploadEncoder {
  readonly codec: Codec;
  private readonly memory = new Map<number, ClientMemory>();
  private readonly remember: boolean;

  constructor(private readonly settings: UploadSettings) {
    this.codec = createCodec(settings.codec);
    this.remember = settings.errorFeedback && this.codec.errorFeedback;
  }

  /** The bytes client `task.client` uploads for `delta` in `task.round`; updates that client's memory. */
  encode(task: { round: number; client: number; seed: number }, delta: Float64Array): Uint8Array {
    const state = this.codec.createState(delta.length, { seed: task.seed, rank: task.client, warmupEpochs: this.settings.warmupRounds });
    state.epoch = task.round - 1;
    const kept = this.remember ? this.memory.get(task.client) : undefined;
    if (kept !== undefined) {
      if (kept.residual !== null && state.residual !== null) state.residual.set(kept.residual);
      if (kept.velocity !== null && state.velocity !== null) state.velocity.set(kept.velocity);
      state.q = kept.q;
    }
    const bytes = this.codec.encode(delta, state);
    if (this.remember)
      this.memory.set(task.client, {
        residual: state.residual === null ? null : Float32Array.from(state.residual),
        velocity: state.velocity === null ? null : Float32Array.from(state.velocity),
        q: state.q,
      });
    return bytes;
  }

  /** Clients whose memory this host holds, and its bytes. */
  held(): { clients: number; bytes: number } {
    let bytes = 0;
    for (const kept of this.memory.values())
      bytes += (kept.residual?.byteLength ?? 0) + (kept.velocity?.byteLength ?? 0) + (kept.q?.byteLength ?? 0);
    return { clients: this.memory.size, bytes };
  }
}

/** The encoder of a job's upload settings, or null for dense uploads. */
export function uploadEncoder(settings: UploadSettings | null): UploadEncoder | null {
  return settings === null ? null : new UploadEncoder(settings);
}

/**
 * A client's update from its reply's payload: the float64 delta of a dense upload, or the codec's
 * decoding of its one byte frame. Anything else — a dense array where bytes were expected, a frame
 * the codec cannot read (cut short, grown, another codec's) — is a CommError naming the client.
 */
export function decodeUpload(
  codec: Codec | null,
  payload: { client: number; codec: unknown; arrays: readonly FloatArray[]; bytes: readonly Uint8Array[] },
  length: number,
): Float64Array {
  const { client, arrays, bytes } = payload;
  if (codec === null) {
    const delta = arrays[0];
    if (arrays.length !== 1 || bytes.length !== 0 || !(delta instanceof Float64Array) || delta.length !== length)
      throw new CommError(
        'COMM',
        `client ${client}'s update: expected one float64 array of ${length} values (dense upload), found ${arrays.length} arrays and ${bytes.length} byte frames`,
      );
    return delta;
  }
  const frame = bytes[0];
  if (arrays.length !== 0 || bytes.length !== 1 || frame === undefined || payload.codec !== codec.spec)
    throw new CommError(
      'COMM',
      `client ${client}'s update: expected one '${codec.spec}' byte frame, found ${arrays.length} arrays and ${bytes.length} byte frames of codec '${String(payload.codec)}'`,
    );
  try {
    return codec.decode(frame, length);
  } catch (error) {
    throw new CommError('COMM', `client ${client}'s update: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
