/**
 * What the all-reduce benchmarks share (bench/allreduce.ts on one host, bench/allreduce-hosts.ts
 * across network namespaces): the row each size gives, its summary of the per-repeat times, the wait
 * for a rank's next message, and finding a Python with torch for gloo.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';

/** One transport, algorithm and size: the median and spread of its repeats, each the slowest rank's time. */
export interface Row {
  transport: string;
  algorithm: string;
  world: number;
  bytes: number;
  median_us: number;
  /** bytes / median time (NCCL's algorithm bandwidth). */
  algbw_GBps: number;
  min_us: number;
  p25_us: number;
  p75_us: number;
  max_us: number;
  repeats: number;
}

/**
 * Untimed all-reduces before a size's timed repeats, ours and gloo's alike: enough to move
 * WARMUP_BYTES through the collective (at least one, at most MAX_WARMUPS). Why by volume: a process's
 * first touch of a page costs ~11 µs on these VMs (measured: 256 MiB mmapped and touched, 10.9 µs per
 * page, every round; touching it again 0.05 µs), and node:crypto returns every sealed or opened record
 * in fresh memory, which the allocator hands out again only after V8 has collected the records before
 * it (its external-memory collections come every ~64 MB). Until then the sealed lane pays ~40 faults
 * per 256 KiB record (1 MiB all-reduce over loopback: 8.7 ms cold, 1.3 ms once warm). A training run
 * is past that in its first seconds; one warm-up all-reduce measured the process's start instead.
 */
export const WARMUP_BYTES = 256 * 1024 * 1024;
export const MAX_WARMUPS = 1000;
export const warmupsFor = (bytes: number): number => Math.min(MAX_WARMUPS, Math.max(1, Math.ceil(WARMUP_BYTES / bytes)));

/** Timed repeats per size: more where one all-reduce is short and the spread wide. */
export const repeatsFor = (bytes: number): number => (bytes <= 256 * 1024 ? 40 : bytes <= 4 * 1024 * 1024 ? 15 : 8);

/** bench/allreduce_gloo.py's argument per size: BYTES:REPEATS:WARMUPS, the counts ours run with. */
export const glooSpecs = (sizes: readonly number[]): string[] => sizes.map((bytes) => `${bytes}:${repeatsFor(bytes)}:${warmupsFor(bytes)}`);

/**
 * Each size timed on benchmark ranks that have joined their world (bench/distributed-worker.ts): the
 * warm-up, then the repeats, each the slowest rank's time; a row per size.
 */
export async function timeSizes(
  children: readonly ChildProcess[],
  transport: string,
  algorithm: string,
  sizes: readonly number[],
): Promise<Row[]> {
  const rows: Row[] = [];
  for (const bytes of sizes) {
    const timed = children.map((child) => next<{ seconds: number[] }>(child, 'timed'));
    for (const child of children)
      child.send({ type: 'allreduce', bytes, repeats: repeatsFor(bytes), warmups: warmupsFor(bytes), dtype: 'float32' });
    const perRank = (await Promise.all(timed)).map((r) => r.seconds.map((s) => s * 1e6));
    rows.push(
      row(
        transport,
        algorithm,
        children.length,
        bytes,
        perRank[0]!.map((_, i) => Math.max(...perRank.map((micros) => micros[i]!))),
      ),
    );
  }
  return rows;
}

/** The q-quantile of sorted values, interpolated. */
export const quantile = (sorted: number[], q: number): number => {
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (at - low);
};

/** The row of `micros` (one time per repeat, µs), also printed on stderr. */
export function row(transport: string, algorithm: string, world: number, bytes: number, micros: number[]): Row {
  const sorted = [...micros].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const r = (x: number): number => Math.round(x * 10) / 10;
  const result = {
    transport,
    algorithm,
    world,
    bytes,
    median_us: r(median),
    algbw_GBps: Math.round((bytes / (median * 1e-6) / 1e9) * 1000) / 1000,
    min_us: r(sorted[0]!),
    p25_us: r(quantile(sorted, 0.25)),
    p75_us: r(quantile(sorted, 0.75)),
    max_us: r(sorted.at(-1)!),
    repeats: micros.length,
  };
  process.stderr.write(
    `${transport.padEnd(17)} ${algorithm.padEnd(6)} ${String(bytes).padStart(9)} B  median ${result.median_us.toFixed(0).padStart(7)} µs  [p25 ${result.p25_us.toFixed(0)}, p75 ${result.p75_us.toFixed(0)}]  ${result.algbw_GBps.toFixed(3)} GB/s\n`,
  );
  return result;
}

/** A benchmark rank's next IPC message of `type`; rejects after `timeoutMs`. */
export function next<T>(child: ChildProcess, type: string, timeoutMs = 300_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`benchmark rank: no '${type}' within ${timeoutMs} ms`)), timeoutMs);
    const on = (message: { type: string }): void => {
      if (message.type !== type) return;
      clearTimeout(timer);
      child.off('message', on);
      resolve(message as T);
    };
    child.on('message', on);
  });
}

/** The first Python that can import torch ($PYTHON, python3 on PATH, Debian's /usr/bin/python3), with torch's version; null when none. */
export function findTorch(): { python: string; version: string } | null {
  for (const python of [process.env['PYTHON'], 'python3', '/usr/bin/python3']) {
    if (python === undefined || python === '') continue;
    const probe = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return null;
}
