/**
 * Stopping child processes: TERM, then KILL after a grace period, waiting for each to exit. One
 * function for every launcher that forks ranks or hosts (processes, the process pool, launch, the
 * namespace cluster, federated client processes).
 *
 * @example
 * await reapAll(children);
 */
import type { ChildProcess } from 'node:child_process';

/** Time a child gets to exit after SIGTERM before SIGKILL. */
export const KILL_GRACE_MS = 2000;

/** Kill (TERM, then KILL after a grace period) and wait for every child that is still running. */
export async function reapAll(children: readonly ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const timer = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
          child.once('exit', () => {
            clearTimeout(timer);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}
