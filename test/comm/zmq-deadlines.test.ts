// The lane's deadlines (comm/zmq/deadlines.ts): one timer keeps every wait's timeout and straggler
// warning. A wait that ends in time is never failed nor warned about; one that lasts is warned about
// once, then failed at its own timeout (never before); waits fail in the order they began; a
// cleared watch fires nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TimedWait } from '../../src/comm/zmq/deadlines.js';
import { Deadlines } from '../../src/comm/zmq/deadlines.js';

interface Wait extends TimedWait {
  name: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function watch(timeoutMs: number, warnMs: number): { deadlines: Deadlines<Wait>; events: string[]; failedAt: Map<string, number> } {
  const events: string[] = [];
  const failedAt = new Map<string, number>();
  const deadlines = new Deadlines<Wait>({
    timeoutMs,
    warnMs,
    timedOut: (wait) => {
      events.push(`timeout ${wait.name}`);
      failedAt.set(wait.name, performance.now() - wait.startedMs);
    },
    warn: (wait, waitedMs) => {
      assert.ok(waitedMs >= warnMs, `warned after ${waitedMs} ms, before ${warnMs} ms`);
      events.push(`warn ${wait.name}`);
    },
  });
  return { deadlines, events, failedAt };
}

const wait = (name: string): Wait => ({ name, startedMs: performance.now(), warned: false });

test('a wait that ends in time is neither warned about nor failed; a lasting one is warned about once, then failed at its timeout', async () => {
  const { deadlines, events, failedAt } = watch(300, 100);
  const quick = wait('quick');
  deadlines.add(quick);
  await sleep(20);
  deadlines.remove(quick);
  const slow = wait('slow');
  deadlines.add(slow);
  await sleep(500);
  assert.deepEqual(events, ['warn slow', 'timeout slow']);
  assert.ok(failedAt.get('slow')! >= 300, `failed after ${failedAt.get('slow')} ms, not before its 300 ms timeout`);
  deadlines.clear();
});

test('each wait fails at its own timeout, in the order they began; a wait removed before its timeout is spared', async () => {
  const { deadlines, events, failedAt } = watch(150, 0);
  const first = wait('first');
  deadlines.add(first);
  await sleep(60);
  const second = wait('second');
  deadlines.add(second);
  const spared = wait('spared');
  deadlines.add(spared);
  await sleep(20);
  deadlines.remove(spared);
  await sleep(250);
  assert.deepEqual(events, ['timeout first', 'timeout second']);
  for (const name of ['first', 'second']) assert.ok(failedAt.get(name)! >= 150, `${name} failed after ${failedAt.get(name)} ms`);
  deadlines.clear();
});

test('warnings off (0, or not below the timeout): only timeouts; after clear() nothing fires', async () => {
  for (const warnMs of [0, 500]) {
    const { deadlines, events } = watch(100, warnMs);
    deadlines.add(wait('w'));
    await sleep(200);
    assert.deepEqual(events, ['timeout w'], `warnMs ${warnMs}`);
  }
  const { deadlines, events } = watch(50, 20);
  deadlines.add(wait('cleared'));
  deadlines.clear();
  await sleep(120);
  assert.deepEqual(events, []);
});
