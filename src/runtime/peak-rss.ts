import { readFileSync } from 'node:fs';

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
