/**
 * The etcd rendezvous's latencies against a real etcd on loopback (Debian etcd-server, started here
 * and stopped at the end), each repeated, as median [min – max]:
 *   join     two members in this process join a job of exactly 2: until both hold the world
 *   grow     a third registers (bounds 2:3, so no last call): until the first two see generation 3
 *   leave    it leaves (lease revoked): until the two see a world of 2
 *   kill     a member in its own process (lease 2 s) is SIGKILLed: until the two see a world of 2
 *
 * node dist/bench/rendezvous-etcd.js [--repeats 7]
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { World } from '../src/comm/rendezvous-backend.js';
import { EtcdRendezvous } from '../src/runtime/rendezvous-etcd.js';
import { ETCD_MISSING, startEtcd } from '../test/runtime/etcd-server.js';

const at = process.argv.indexOf('--repeats');
const repeats = at < 0 ? 7 : Number(process.argv[at + 1]);
const MEMBER = fileURLToPath(new URL('../test/runtime/fixtures/etcd-member.js', import.meta.url));

if (ETCD_MISSING !== false) {
  process.stderr.write(`${ETCD_MISSING}\n`);
  process.exit(2);
}
const etcd = await startEtcd();

const member = (jobId: string, min: number, max: number): EtcdRendezvous =>
  new EtcdRendezvous({ endpoint: etcd.endpoint, jobId, minWorkers: min, maxWorkers: max, leaseSeconds: 2, joinTimeoutMs: 20_000 });

function worldOf(rendezvous: EtcdRendezvous, size: number): Promise<World> {
  return new Promise((resolve) => {
    const stop = rendezvous.onChange((world) => {
      if (world.worldSize !== size) return;
      stop();
      resolve(world);
    });
  });
}

function memberProcess(jobId: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [MEMBER, etcd.endpoint, jobId, '2', '3'], {
    env: { ...process.env, SHARDLEARN_ETCD_MEMBER: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => child.stdout!.once('data', () => resolve(child)));
}

const times: Record<'join' | 'grow' | 'leave' | 'kill', number[]> = { join: [], grow: [], leave: [], kill: [] };
try {
  for (let r = 0; r < repeats; r++) {
    const a = member(`bench-${r}`, 2, 3);
    const b = member(`bench-${r}`, 2, 3);
    // join: exactly 2 wanted (a separate job, so no last call)
    const x = member(`pair-${r}`, 2, 2);
    const y = member(`pair-${r}`, 2, 2);
    let started = performance.now();
    await Promise.all([x.join(), y.join()]);
    times.join.push(performance.now() - started);
    await Promise.all([x.leave(), y.leave()]);

    await Promise.all([a.join(), b.join()]);
    const c = member(`bench-${r}`, 2, 3);
    let seen = Promise.all([worldOf(a, 3), worldOf(b, 3)]);
    started = performance.now();
    await c.join();
    await seen;
    times.grow.push(performance.now() - started);

    seen = Promise.all([worldOf(a, 2), worldOf(b, 2)]);
    started = performance.now();
    await c.leave();
    await seen;
    times.leave.push(performance.now() - started);

    const grown = Promise.all([worldOf(a, 3), worldOf(b, 3)]);
    const child = await memberProcess(`bench-${r}`);
    await grown;
    seen = Promise.all([worldOf(a, 2), worldOf(b, 2)]);
    started = performance.now();
    child.kill('SIGKILL');
    await seen;
    times.kill.push(performance.now() - started);
    await Promise.all([a.leave(), b.leave()]);
  }
} finally {
  await etcd.stop();
}

const sorted = (values: number[]): number[] => [...values].sort((p, q) => p - q);
for (const [name, values] of Object.entries(times)) {
  const s = sorted(values);
  process.stdout.write(
    `${name.padEnd(6)} median ${s[s.length >> 1]!.toFixed(0)} ms [${s[0]!.toFixed(0)} – ${s[s.length - 1]!.toFixed(0)}] over ${s.length}\n`,
  );
}
process.stdout.write(
  `load average ${loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}\n`,
);
