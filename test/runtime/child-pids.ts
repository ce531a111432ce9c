/**
 * The child processes of a process, in the order they started: by their start time in
 * /proc/<pid>/stat (field 22), then by pid — never by pid alone, because pids wrap around on a
 * long-running machine (a replacement forked later can have a smaller pid than the ranks it joins).
 * pgrep exits 1 when there are none: then [].
 *
 * @example
 * const [rank0, rank1] = childPids(); // the launcher forks ranks in rank order
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** The start time of `pid` in clock ticks since boot; Infinity once it is gone (it sorts last). */
function startTime(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3, the state.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[22 - 3]);
  } catch {
    return Infinity;
  }
}

/** Child processes of `parent` (default: this process), in start order. */
export function childPids(parent: number = process.pid): number[] {
  let pids: number[];
  try {
    pids = execFileSync('pgrep', ['-P', String(parent)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
  const started = new Map(pids.map((pid) => [pid, startTime(pid)]));
  return pids.sort((a, b) => started.get(a)! - started.get(b)! || a - b);
}
