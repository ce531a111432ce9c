/**
 * A progress bar on stderr for long runs: drawn only on a terminal (never into pipes or CI logs),
 * redrawn at most every 100 ms, erased when done.
 */
export interface ProgressBar {
  update(fraction: number, label: string): void;
  done(): void;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr, enabled = stream.isTTY === true): ProgressBar {
  let lastDraw = 0;
  let drawn = false;
  return {
    update(fraction: number, label: string): void {
      if (!enabled) return;
      const now = Date.now();
      if (now - lastDraw < 100 && fraction < 1) return;
      lastDraw = now;
      const width = 30;
      const clamped = Math.max(0, Math.min(1, fraction));
      const filled = Math.round(clamped * width);
      const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(clamped * 100).toFixed(0).padStart(3)}% ${label}`;
      stream.write(`\r${line.slice(0, (stream.columns ?? 100) - 1)}\x1b[K`);
      drawn = true;
    },
    done(): void {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}
