// Counting this process's OS threads (Linux), for the tests that check no worker thread is left.
import { readdirSync } from 'node:fs';

export const threadCount = (): number => readdirSync('/proc/self/task').length;

/** The thread count once terminated threads have exited (their exit is asynchronous at the OS level). */
export async function settledThreadCount(): Promise<number> {
  let count = threadCount();
  for (let i = 0; i < 100; i++) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const next = threadCount();
    if (next === count && i >= 4) return count;
    count = next;
  }
  return count;
}
