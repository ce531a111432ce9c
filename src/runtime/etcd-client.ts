/**
 * The few etcd v3 calls the etcd rendezvous needs, through etcd's HTTP/JSON gateway (grpc-gateway:
 * POST /v3/<service>/<method>, keys and values base64, 64-bit integers as decimal strings) with
 * Node's own fetch — no client library. Every call has a timeout; every failure is a
 * RendezvousError naming the endpoint and the call ("etcd at 10.0.0.5:2379: kv/range ...").
 *
 * A watch is a long-lived POST whose response streams one JSON object per line; it ends when its
 * AbortSignal fires, and a stream that breaks is reported to `onError` (the caller decides whether
 * to re-watch from the last revision it saw). It alone goes through node:http (see watchPrefix).
 *
 * @example
 * const etcd = new EtcdClient('127.0.0.1:2379', { timeoutMs: 2000 });
 * const lease = await etcd.grantLease(3);
 * await etcd.put('/job/members/a', '{"host":"10.0.0.2"}', lease);
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RendezvousError } from '../core/errors.js';

/** A key-value pair as etcd returns it (key and value decoded to UTF-8). */
export interface EtcdKeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  lease: string;
}

/** One change a watch reports. */
export interface EtcdEvent {
  type: 'PUT' | 'DELETE';
  kv: EtcdKeyValue;
}

/** A compare of a transaction: the key's mod revision equals `modRevision` (0: the key does not exist). */
export interface ModRevisionCompare {
  key: string;
  modRevision: number;
}

interface RawKeyValue {
  key?: string;
  value?: string;
  create_revision?: string;
  mod_revision?: string;
  lease?: string;
}

interface RawHeader {
  revision?: string;
}

const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const fromBase64 = (text: string | undefined): string => Buffer.from(text ?? '', 'base64').toString('utf8');

/** The key just past every key starting with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = bytes.subarray(0, i + 1);
      end[i]! += 1;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // every key
}

function decode(raw: RawKeyValue): EtcdKeyValue {
  return {
    key: fromBase64(raw.key),
    value: fromBase64(raw.value),
    createRevision: Number(raw.create_revision ?? 0),
    modRevision: Number(raw.mod_revision ?? 0),
    lease: raw.lease ?? '0',
  };
}

export class EtcdClient {
  /** The endpoint as the user named it (host:port), for messages. */
  readonly endpoint: string;
  private readonly base: string;
  private readonly timeoutMs: number;

  /** `endpoint`: host:port, or an http:// URL. `timeoutMs` bounds every call but a watch's stream. */
  constructor(endpoint: string, options: { timeoutMs: number }) {
    const url = /^https?:\/\//.test(endpoint) ? endpoint : `http://${endpoint}`;
    this.base = url.replace(/\/+$/, '');
    this.endpoint = endpoint;
    this.timeoutMs = options.timeoutMs;
  }

  private failure(operation: string, detail: string, cause?: unknown, recoverable = true): RendezvousError {
    return new RendezvousError(`etcd at ${this.endpoint}: ${operation} failed: ${detail}`, {
      endpoint: this.endpoint,
      operation,
      recoverable,
      ...(cause === undefined ? {} : { cause }),
    });
  }

  /** POST one request to the gateway; the parsed answer, or a RendezvousError. */
  private async call<T>(operation: string, body: unknown): Promise<T> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.base}/v3/${operation}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      const name = (error as Error).name;
      const reason =
        name === 'TimeoutError' || name === 'AbortError'
          ? `no answer within ${this.timeoutMs} ms`
          : `${(error as Error).message}${causeCode(error)} (is etcd running there, and is the endpoint host:port of its client URL?)`;
      throw this.failure(operation, reason, error);
    }
    let parsed: { error?: string; message?: string } & T;
    try {
      parsed = JSON.parse(text) as typeof parsed;
    } catch (error) {
      throw this.failure(operation, `HTTP ${response.status}, not JSON: ${text.slice(0, 120)}`, error, false);
    }
    if (!response.ok || parsed.error !== undefined) {
      // 4xx: etcd refused the request itself (a bug or a bad key): retrying will not help.
      throw this.failure(
        operation,
        `HTTP ${response.status}: ${parsed.message ?? parsed.error ?? text.slice(0, 120)}`,
        undefined,
        response.status >= 500,
      );
    }
    return parsed;
  }

  /** Grant a lease of `ttlSeconds` (etcd raises it to its minimum, about 2 s); its id and granted TTL. */
  async grantLease(ttlSeconds: number): Promise<{ id: string; ttlSeconds: number }> {
    const answer = await this.call<{ ID?: string; TTL?: string }>('lease/grant', { TTL: ttlSeconds });
    if (answer.ID === undefined) throw this.failure('lease/grant', 'the answer holds no lease id');
    return { id: answer.ID, ttlSeconds: Number(answer.TTL ?? ttlSeconds) };
  }

  /** Renew a lease once; the seconds it has left, 0 when it has already expired. */
  async keepAlive(id: string): Promise<number> {
    const answer = await this.call<{ result?: { TTL?: string } }>('lease/keepalive', { ID: id });
    return Number(answer.result?.TTL ?? 0);
  }

  async revokeLease(id: string): Promise<void> {
    await this.call('lease/revoke', { ID: id });
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    const answer = await this.call<{ header?: RawHeader }>('kv/put', {
      key: base64(key),
      value: base64(value),
      ...(lease === undefined ? {} : { lease }),
    });
    return Number(answer.header?.revision ?? 0);
  }

  /** Every key under `prefix`, and the store's revision at the read. */
  async rangePrefix(prefix: string): Promise<{ kvs: EtcdKeyValue[]; revision: number }> {
    const answer = await this.call<{ header?: RawHeader; kvs?: RawKeyValue[] }>('kv/range', {
      key: base64(prefix),
      range_end: prefixEnd(prefix),
    });
    return { kvs: (answer.kvs ?? []).map(decode), revision: Number(answer.header?.revision ?? 0) };
  }

  /** Put `key` = `value` if every compare holds; whether it did. */
  async putIf(compares: readonly ModRevisionCompare[], key: string, value: string): Promise<boolean> {
    const answer = await this.call<{ succeeded?: boolean }>('kv/txn', {
      compare: compares.map((c) => ({ target: 'MOD', key: base64(c.key), result: 'EQUAL', mod_revision: String(c.modRevision) })),
      success: [{ request_put: { key: base64(key), value: base64(value) } }],
    });
    return answer.succeeded === true;
  }

  /**
   * Watch every key under `prefix` from `startRevision`: `onEvents` hears each batch, in order.
   * Resolves once etcd confirmed the watch (within the timeout); the stream then runs until `signal`
   * aborts, and a stream that ends or breaks otherwise is reported once to `onError`.
   *
   * Through node:http rather than fetch: a watch lasts as long as the job, and its socket must not
   * keep a process that has finished (or failed) alive — fetch's sockets cannot be unref'd.
   */
  watchPrefix(
    prefix: string,
    startRevision: number,
    handlers: { onEvents: (events: EtcdEvent[], revision: number) => void; onError: (error: RendezvousError) => void },
    signal: AbortSignal,
  ): Promise<void> {
    const operation = 'watch';
    const body = JSON.stringify({
      create_request: { key: base64(prefix), range_end: prefixEnd(prefix), start_revision: String(startRevision) },
    });
    return new Promise<void>((resolve, reject) => {
      let confirmed = false;
      let finished = false;
      const fail = (error: RendezvousError): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        request.destroy();
        if (!confirmed) reject(error);
        else if (!signal.aborted) handlers.onError(error);
      };
      const timer = setTimeout(() => fail(this.failure(operation, `not confirmed within ${this.timeoutMs} ms`)), this.timeoutMs);
      const send = this.base.startsWith('https:') ? httpsRequest : httpRequest;
      const request = send(`${this.base}/v3/watch`, { method: 'POST', headers: { 'content-type': 'application/json' }, signal });
      request.on('socket', (socket) => socket.unref());
      request.on('error', (error) => {
        if (!signal.aborted) fail(this.failure(operation, `${error.message}${causeCode({ cause: error })}`, error));
        else if (!confirmed) fail(this.failure(operation, 'left before etcd confirmed the watch'));
      });
      request.on('response', (response) => {
        if (response.statusCode !== 200) {
          fail(this.failure(operation, `HTTP ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        let pending = '';
        response.on('data', (chunk: string) => {
          pending += chunk;
          let newline: number;
          while ((newline = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, newline).trim();
            pending = pending.slice(newline + 1);
            if (line !== '' && !finished) onLine(line);
          }
        });
        response.on('end', () => fail(this.failure(operation, 'the watch stream ended (etcd restarted or closed it)')));
        response.on('error', (error) => {
          if (!signal.aborted) fail(this.failure(operation, `the watch stream broke: ${error.message}`, error));
        });
      });
      const onLine = (line: string): void => {
        const message = JSON.parse(line) as {
          result?: { header?: RawHeader; created?: boolean; canceled?: boolean; events?: { type?: string; kv?: RawKeyValue }[] };
          error?: { message?: string };
        };
        if (message.error !== undefined || message.result?.canceled === true) {
          fail(this.failure(operation, message.error?.message ?? 'the watch was cancelled by etcd (its start revision compacted?)'));
          return;
        }
        if (message.result?.created === true && !confirmed) {
          confirmed = true;
          clearTimeout(timer);
          resolve();
        }
        const events = message.result?.events ?? [];
        if (events.length > 0) {
          handlers.onEvents(
            events.map((event) => ({ type: event.type === 'DELETE' ? 'DELETE' : 'PUT', kv: decode(event.kv ?? {}) })),
            Number(message.result?.header?.revision ?? 0),
          );
        }
      };
      request.end(body);
    });
  }
}

/** ", ECONNREFUSED" from a fetch error's cause, when it has one. */
function causeCode(error: unknown): string {
  const code = ((error as { cause?: { code?: unknown } }).cause ?? {}).code;
  return typeof code === 'string' ? ` (${code})` : '';
}
