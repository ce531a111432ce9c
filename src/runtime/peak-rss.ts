import { readFileSync, writeFileSync } from 'node:fs';

/**
 * This process's peak resident set size since it started, bytes: VmHWM of /proc/self/status on
 * Linux. Not `process.resourceUsage().maxRSS`: Linux carries the pre-exec maximum across execve, so
 * a child process would report the launcher's memory at spawn time (measured: 512 MB for a rank
 * holding 2.6 MB of data). Elsewhere, the current RSS (a lower bound of the peak).
 */
export function processPeakRssBytes(): number {
  try {
    const match = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match !== null) return Number(match[1]) * 1024;
  } catch {
    // no procfs: fall through
  }
  return process.memoryUsage().rss;
}

/**
 * Start this process's peak over (Linux ≥ 4.0: "5" to /proc/self/clear_refs resets VmHWM to the
 * current RSS), so that a pooled worker process reports each job's own peak, not an earlier job's.
 * Best effort: elsewhere the peak keeps counting from the process's start.
 */
export function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // no procfs, or not permitted: the peak stays the process's
  }
}
