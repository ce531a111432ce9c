// Membership of a running `cluster` fit through a real etcd (Debian etcd-server, started here): two
// rank processes form generation 0 and train; a third registers mid-run and joins at the next epoch
// boundary (2 → 3: rank 0 hands it the state over the transport, the source is re-sharded 3 ways);
// it is then SIGKILLed, its lease lapses, and the survivors meet in the world etcd agrees without it
// (3 → 2), reload the agreed step and finish. The accuracy is within 1 point of an undisturbed run,
// and the ranks' row logs show every epoch's rows summed once (twice only for steps redone after the
// kill).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../src/index.js';
import { generateSecret } from '../../src/comm/zmq/security.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import type { FitInfo } from '../../src/models/paradigm.js';
import { ETCD_MISSING, startEtcd } from './etcd-server.js';
import { ETCD_GROWTH_PARAMS } from './fixtures/etcd-elastic-rank.js';
import { RowLogModel } from './fixtures/row-log-model.js';
import { ELASTIC_SPEC, ELASTIC_SPLIT } from './fixtures/elastic-settings.js';

const RANK_SCRIPT = fileURLToPath(new URL('./fixtures/etcd-elastic-rank.js', import.meta.url));
const whole = trainTestSplit((await loadData(ELASTIC_SPEC)).train, ELASTIC_SPLIT);

/** Resolves once `check` holds, polling every 50 ms; rejects after `timeoutMs` naming `what`. */
async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test(
  'etcd membership 2 → 3 → 2: a registered rank joins at an epoch boundary, a lapsed lease shrinks the world',
  { skip: ETCD_MISSING },
  async () => {
    const etcd = await startEtcd();
    const folder = mkdtempSync(join(tmpdir(), 'shardlearn-etcd-growth-'));
    const logs = join(folder, 'rows');
    const out = join(folder, 'fit');
    const secret = generateSecret();
    const jobId = `growth-${process.pid}`;
    const ranks: ChildProcess[] = [];
    const stderr: string[] = [];
    const exits: Promise<number | string>[] = [];
    let epoch = 0;
    const start = (): ChildProcess => {
      const child = spawn(process.execPath, [RANK_SCRIPT, etcd.endpoint, jobId, logs, out], {
        env: { ...process.env, SHARDLEARN_ETCD_RANK: '1', SHARDLEARN_SECRET: secret },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const index = ranks.length;
      stderr[index] = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr[index] += chunk.toString()));
      child.stdout!.on('data', (chunk: Buffer) => {
        for (const match of chunk.toString().matchAll(/epoch (\d+)/g)) epoch = Math.max(epoch, Number(match[1]));
      });
      exits.push(new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1))));
      ranks.push(child);
      return child;
    };
    mkdirSync(logs);
    const guard = setTimeout(() => ranks.forEach((child) => child.kill('SIGKILL')), 120_000);
    try {
      start();
      start();
      await until(() => epoch >= 2, 'the first two ranks to train 2 epochs');
      const third = start();
      const thirdLog = (): string | undefined => readdirSync(logs).find((file) => file === `rows-${third.pid}`);
      // Joined: the third rank has summed rows of an epoch and begun another.
      await until(() => {
        const file = thirdLog();
        return (
          file !== undefined &&
          new Set(
            readFileSync(join(logs, file), 'utf8')
              .split('\n')
              .map((line) => line.split(' ')[0]),
          ).size >= 3
        );
      }, 'the third rank to join and train');
      third.kill('SIGKILL');
      const codes = await Promise.all(exits);
      assert.deepEqual(codes, [0, 0, 'SIGKILL'], stderr.join('\n---\n'));
      const results = readdirSync(folder)
        .filter((file) => file.startsWith('fit.'))
        .map((file) => JSON.parse(readFileSync(join(folder, file), 'utf8')) as { info: FitInfo; accuracy: number });
      assert.equal(results.length, 2);
      const info = results.find((result) => result.info.faults !== undefined)?.info ?? results[0]!.info;
      assert.equal(info.workers, 2, 'the run ended on the two survivors');
      assert.equal(info.joins?.length, 1, JSON.stringify(info.joins));
      const joined = info.joins![0]!;
      assert.deepEqual([joined.workers, joined.added], [3, [2]], JSON.stringify(joined));
      assert.equal(info.faults?.length, 1, JSON.stringify(info.faults));
      const fault = info.faults![0]!;
      assert.equal(fault.workers, 2);
      assert.ok(fault.generation > joined.generation, 'the shrink is a later generation than the growth');
      // The logs: 3 processes summed rows; every epoch's rows once, but the kill's epoch (redone steps).
      const batches = readdirSync(logs).flatMap((file) =>
        readFileSync(join(logs, file), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const [at, size, keys] = line.split(' ');
            return {
              file,
              epoch: Number(at),
              size: Number(size),
              keys: keys === undefined || keys === '' ? [] : keys.split(',').map(Number),
            };
          }),
      );
      assert.equal(new Set(batches.map((batch) => batch.file)).size, 3);
      const all = whole.train.rows;
      let mixed = 0;
      for (let e = 0; e < ETCD_GROWTH_PARAMS.epochs; e++) {
        const of = batches.filter((batch) => batch.epoch === e);
        const counts = new Map<number, number>();
        for (const batch of of) for (const key of batch.keys) counts.set(key, (counts.get(key) ?? 0) + 1);
        assert.equal(counts.size, all, `epoch ${e}: ${all - counts.size} rows never summed`);
        const twice = [...counts.values()].reduce((sum, count) => sum + count - 1, 0);
        if (new Set(of.map((batch) => batch.size)).size > 1) {
          mixed++;
          assert.ok(twice <= ((fault.redoneSteps ?? 0) + 1) * ETCD_GROWTH_PARAMS.batchSize, `epoch ${e}: ${twice} rows twice`);
        } else assert.equal(twice, 0, `epoch ${e}: ${twice} rows summed twice`);
      }
      assert.ok(mixed <= 1, `${mixed} epochs changed their world mid-epoch`);
      const undisturbed = await new RowLogModel({ ...ETCD_GROWTH_PARAMS, stepDelayMs: 0 }).fit(whole.train);
      const reference = undisturbed.score(whole.test);
      for (const result of results) assert.ok(Math.abs(result.accuracy - reference) <= 0.01, `accuracy ${result.accuracy} vs ${reference}`);
      console.log(
        `etcd membership: join ${JSON.stringify(joined)}; fault ${JSON.stringify(fault)}; accuracy ${results[0]!.accuracy} vs ${reference}`,
      );
    } finally {
      clearTimeout(guard);
      ranks.forEach((child) => child.kill('SIGKILL'));
      await etcd.stop();
      if (existsSync(folder)) rmSync(folder, { recursive: true, force: true });
    }
  },
);
