/**
 * The sorted seconds of `repeats` timed runs of `run` after `warmups` untimed ones, in process CPU
 * time, not wall time: the kernel benchmarks are single-threaded, and on a shared machine wall time
 * also counts the time the thread waited for a core (numpy is timed the same way, with
 * time.process_time).
 *
 * @example
 * const [fastest] = timedSeconds(() => kernels.gemm(…), 7);
 */
export function timedSeconds(run: () => void, repeats: number, warmups = 1): number[] {
  for (let i = 0; i < warmups; i++) run();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1e6);
  }
  return times.sort((x, y) => x - y);
}
