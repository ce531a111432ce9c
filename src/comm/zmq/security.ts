/**
 * Security of the ZeroMQ transport, on by default (the lesson of Ray's unauthenticated-cluster
 * CVE-2023-48022 and of PyTorch's unauthenticated c10d store): every connection uses CURVE
 * (Curve25519 keys, authenticated encryption), with keys derived from a per-job secret, and a ZAP
 * handler refuses any client whose long-term key was not derived from that secret.
 *
 * Key derivation: HKDF-SHA256(secret, salt = job id) gives one server and one client secret key per
 * job; the public keys are X25519(secretKey, 9) (node:crypto), Z85-encoded as libzmq expects. Every
 * rank derives the same four keys, so nothing but the secret has to be distributed. A peer without
 * the secret cannot compute the server's public key (its CURVE HELLO does not decrypt) nor the client
 * key (ZAP refuses it). The secret never travels on argv or in logs: it comes from SHARDLEARN_SECRET
 * or a file (`--secret-file`), and `launch` generates one per job.
 *
 * @example
 * const keys = deriveCurveKeys(readSecret(), 'job-42');
 * const router = new zmq.Router({ curveServer: true, curveSecretKey: keys.serverSecretKey, zapDomain: zapDomainFor('job-42') });
 */
import { createHash, createPrivateKey, createPublicKey, hkdfSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as zmq from 'zeromq';
import { ConfigError } from '../../core/errors.js';

export interface CurveKeys {
  serverPublicKey: string;
  serverSecretKey: string;
  clientPublicKey: string;
  clientSecretKey: string;
}

/** Fewest bytes a secret may have: 16 bytes is 128 bits when it is random (`generateSecret` gives 32). */
const MIN_SECRET_BYTES = 16;
const Z85_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
/** PKCS#8 DER prefix of a raw 32-byte X25519 private key (RFC 8410). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** Z85 (ZeroMQ RFC 32) text of `bytes`, whose length is a multiple of 4. */
export function z85Encode(bytes: Uint8Array): string {
  let text = '';
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < bytes.length; i += 4) {
    let value = view.getUint32(i);
    let chunk = '';
    for (let k = 0; k < 5; k++) {
      chunk = Z85_ALPHABET[value % 85]! + chunk;
      value = Math.floor(value / 85);
    }
    text += chunk;
  }
  return text;
}

function keyPair(secretKey: Buffer): { publicKey: string; secretKey: string } {
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, secretKey]), format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { publicKey: z85Encode(Buffer.from(jwk.x!, 'base64url')), secretKey: z85Encode(secretKey) };
}

/** Refuse a job secret shorter than MIN_SECRET_BYTES, with the fix. */
export function checkSecret(secret: Uint8Array): void {
  if (secret.length < MIN_SECRET_BYTES) {
    throw new ConfigError(
      `the job secret has ${secret.length} bytes, expected at least ${MIN_SECRET_BYTES}; use 'shardlearn launch' (it generates one) or e.g. SHARDLEARN_SECRET=$(openssl rand -hex 32)`,
      { field: 'secret' },
    );
  }
}

/** The job's CURVE keys: the same on every rank that holds `secret`. */
export function deriveCurveKeys(secret: Uint8Array, jobId: string): CurveKeys {
  checkSecret(secret);
  const derive = (purpose: string): Buffer =>
    Buffer.from(hkdfSync('sha256', secret, Buffer.from(jobId, 'utf8'), `shardlearn curve ${purpose}`, 32));
  const server = keyPair(derive('server'));
  const client = keyPair(derive('client'));
  return {
    serverPublicKey: server.publicKey,
    serverSecretKey: server.secretKey,
    clientPublicKey: client.publicKey,
    clientSecretKey: client.secretKey,
  };
}

/** A fresh random secret (32 bytes as 64 hex characters), what `launch` gives a job when none is set. */
export function generateSecret(): string {
  return randomBytes(32).toString('hex');
}

/**
 * The job secret: the file named by `secretFile` (or SHARDLEARN_SECRET_FILE), else SHARDLEARN_SECRET.
 * Its text is used as bytes, trailing newline trimmed. Throws a ConfigError saying how to set one.
 */
export function readSecret(options: { secretFile?: string | undefined; env?: NodeJS.ProcessEnv } = {}): Buffer {
  const env = options.env ?? process.env;
  const file = options.secretFile ?? env['SHARDLEARN_SECRET_FILE'];
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(`cannot read the secret file '${file}': ${(error as Error).message}`, { field: 'secret-file', cause: error });
    }
    return Buffer.from(text.replace(/\r?\n$/, ''), 'utf8');
  }
  const value = env['SHARDLEARN_SECRET'];
  if (value === undefined || value === '') {
    throw new ConfigError(
      'distributed training needs a per-job secret: set SHARDLEARN_SECRET (e.g. $(openssl rand -hex 32)) to the same value on every rank, or pass --secret-file; `shardlearn launch` generates one for local runs',
      { field: 'secret' },
    );
  }
  return Buffer.from(value, 'utf8');
}

/** ZAP domain of a job: a process may serve several jobs, each with its own allowed client key. */
export function zapDomainFor(jobId: string): string {
  return `shardlearn:${createHash('sha256').update(jobId).digest('hex').slice(0, 32)}`;
}

/** The ZAP endpoint libzmq asks in the socket's own context (RFC 27). */
const ZAP_ENDPOINT = 'inproc://zeromq.zap.01';

/**
 * Start the ZAP handler of one transport's ZeroMQ `context`: accept CURVE clients of `domain` only
 * when their public key is `clientPublicKey`, and log every refusal through `log`. Returns a function
 * that closes it.
 *
 * One handler per context, and one context per transport, never one handler per process: the ZAP
 * endpoint is a single inproc name in its context, and zeromq.js's default context is one for the
 * whole process, worker threads included. A process-wide handler therefore had to be shared by every
 * transport of the process, closed when the last left and bound again by the next — and a second
 * thread's transport could not bind it at all (EADDRINUSE), nor could a rebind right after a close,
 * which twice took over 1 s and 5 s in a full `npm test`. In its own context the endpoint is bound
 * once, by the only handler it will ever have.
 */
export async function startZapHandler(
  context: zmq.Context,
  domain: string,
  clientPublicKey: string,
  log: (line: string) => void,
): Promise<() => void> {
  const socket = new zmq.Reply({ linger: 0, context });
  try {
    await socket.bind(ZAP_ENDPOINT);
  } catch (error) {
    socket.close();
    throw error;
  }
  void serveZap(socket, domain, clientPublicKey, log);
  return () => {
    if (!socket.closed) socket.close();
  };
}

async function serveZap(socket: zmq.Reply, served: string, expected: string, log: (line: string) => void): Promise<void> {
  try {
    for await (const frames of socket) {
      // RFC 27 request: version, request id, domain, address, identity, mechanism, credentials...
      const [version, requestId, domain, address, , mechanism, credential] = frames;
      let status = '200';
      let reason = 'OK';
      if (mechanism?.toString() !== 'CURVE') {
        status = '400';
        reason = `mechanism ${mechanism?.toString() ?? 'none'} refused: shardlearn peers must use CURVE`;
      } else if (domain?.toString() !== served) {
        status = '400';
        reason = 'no shardlearn job is served under this domain';
      } else if (credential === undefined || credential.length !== 32 || z85Encode(credential) !== expected) {
        status = '400';
        reason = "its CURVE key was not derived from this job's secret (wrong SHARDLEARN_SECRET or not a shardlearn peer)";
      }
      if (status !== '200') log(`refused a connection from ${address?.toString() ?? 'an unknown address'}: ${reason}`);
      await socket.send([version ?? '1.0', requestId ?? '', status, reason, '', '']);
    }
  } catch {
    // The socket closed with its transport: nothing left to authenticate.
  }
}
