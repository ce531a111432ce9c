// Elastic recovery under `cluster` on loopback: three real rank processes started with the
// rendezvous environment (as `shardlearn launch`, torchrun or an orchestrator would), one SIGKILLed
// mid-run; with minWorkers 2 the two survivors re-form as generation 1 (the lowest survivor listens
// at MASTER_PORT + 1), reload the agreed step boundary, load their new shards of the source and
// finish with the accuracy of an undisturbed run. With max-restarts 0 they fail, naming the rank.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../src/index.js';
import { generateSecret } from '../../src/comm/zmq/security.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import type { FitInfo } from '../../src/models/paradigm.js';
import { createModel } from '../../src/models/registry.js';
import { freePort } from '../../src/runtime/launch.js';
import { ELASTIC_MODEL, ELASTIC_SPEC, ELASTIC_SPLIT, KILL_AFTER_EPOCH } from './fixtures/elastic-settings.js';

const RANK_SCRIPT = new URL('./fixtures/elastic-rank.js', import.meta.url).pathname;
const whole = trainTestSplit((await loadData(ELASTIC_SPEC)).train, ELASTIC_SPLIT);

interface Outcome {
  codes: (number | string)[];
  folder: string;
  stderr: string[];
}

/** Start 3 ranks; SIGKILL rank 1 once rank 0 prints KILL_AFTER_EPOCH; resolve when all have exited (or 60 s passed). */
async function runJob(args: string[]): Promise<Outcome> {
  const folder = mkdtempSync(join(tmpdir(), 'shardlearn-elastic-'));
  const port = await freePort();
  const secret = generateSecret();
  const stderr = ['', '', ''];
  const ranks = [0, 1, 2].map((rank) =>
    spawn(process.execPath, [RANK_SCRIPT, join(folder, 'fit'), ...args], {
      env: {
        ...process.env,
        SHARDLEARN_ELASTIC_TEST: '1',
        MASTER_ADDR: '127.0.0.1',
        MASTER_PORT: String(port),
        WORLD_SIZE: '3',
        RANK: String(rank),
        SHARDLEARN_SECRET: secret,
        SHARDLEARN_JOB_ID: `elastic-${port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let killed = false;
  ranks.forEach((child, rank) => child.stderr.on('data', (chunk: Buffer) => (stderr[rank] += chunk.toString())));
  ranks[0]!.stdout.on('data', (chunk: Buffer) => {
    const epochs = [...chunk.toString().matchAll(/epoch (\d+)/g)].map((match) => Number(match[1]));
    if (!killed && epochs.some((epoch) => epoch >= KILL_AFTER_EPOCH)) {
      killed = true;
      ranks[1]!.kill('SIGKILL');
    }
  });
  const guard = setTimeout(() => ranks.forEach((child) => child.kill('SIGKILL')), 60_000);
  const codes = await Promise.all(
    ranks.map((child) => new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))),
  );
  clearTimeout(guard);
  assert.ok(killed, 'rank 1 was killed mid-run');
  return { codes, folder, stderr };
}

test('cluster: SIGKILL of 1 of 3 ranks with minWorkers 2: the survivors re-form, finish, and score within 1 point of an undisturbed run', async () => {
  const { codes, folder, stderr } = await runJob(['2']);
  try {
    assert.deepEqual(codes, [0, 'SIGKILL', 0], stderr.join('\n'));
    const { state, info, accuracy } = JSON.parse(readFileSync(join(folder, 'fit.0'), 'utf8')) as {
      state: unknown;
      info: FitInfo;
      accuracy: number;
    };
    assert.equal(info.workers, 2);
    const fault = info.faults?.[0];
    assert.equal(info.faults?.length, 1, JSON.stringify(info.faults));
    assert.equal(fault!.rank, 1);
    assert.ok(fault!.resumedStep! > 0, JSON.stringify(fault));
    assert.equal(
      info.rows!.reduce((sum, rows) => sum + rows, 0),
      whole.train.rows,
      'the survivors’ new shards are every training row, once',
    );
    // Rank 2 of the launch is rank 1 of generation 1 and ends with the same model.
    const other = JSON.parse(readFileSync(join(folder, 'fit.2'), 'utf8')) as { state: unknown };
    assert.deepEqual(other.state, state);
    const reference = (await createModel(ELASTIC_MODEL.name, ELASTIC_MODEL.params).fit(whole.train)).score(whole.test);
    assert.ok(Math.abs(accuracy - reference) <= 0.01, `accuracy ${accuracy} vs undisturbed ${reference}`);
    console.log(`cluster fault: ${JSON.stringify(fault)}; accuracy ${accuracy} vs ${reference}`);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('cluster: max-restarts 0 exhausted: the survivors fail with PEER_LOST naming rank 1', async () => {
  const { codes, folder, stderr } = await runJob(['2', '0']);
  try {
    assert.deepEqual(codes, [4, 'SIGKILL', 4]);
    for (const rank of [0, 2]) {
      const report = JSON.parse(stderr[rank]!.trim().split('\n').at(-1)!) as { code: string; rank: number; message: string };
      assert.equal(report.code, 'PEER_LOST', report.message);
      assert.equal(report.rank, 1, report.message);
      assert.match(report.message, /max-restarts 0 exhausted/);
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
