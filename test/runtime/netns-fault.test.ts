// Fault injection in compare's namespace cluster (netns-cluster.ts): 3 ranks in 3 network
// namespaces, one SIGKILLed at a seeded point of rank 0's progress; with minWorkers 2 the others
// re-form over the bridge (the new generation's rows from the launcher's file), finish, and report
// the fault; the killed rank is the one the plan chose. Skips where namespaces are not permitted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { trainTestSplit } from '../../src/data/split.js';
import { createModel } from '../../src/models/registry.js';
import { planFault } from '../../src/runtime/fault-injection.js';
import { fitInNamespaces } from '../../src/runtime/netns-cluster.js';
import { namespacesUnavailable } from '../../src/runtime/netns.js';
import { ELASTIC_MODEL, ELASTIC_SPEC, ELASTIC_SPLIT } from './fixtures/elastic-settings.js';

const unavailable = namespacesUnavailable();

// The victim is rank 0, the rendezvous master: the case only cluster has (the new master listens on
// another namespace's address); another rank's loss is the processes tests' case.
test(
  'namespace cluster: SIGKILL of rank 0 (the rendezvous master) at a seeded point; minWorkers 2: the others re-form and finish',
  { skip: unavailable ?? false },
  async () => {
    const whole = trainTestSplit((await loadData(ELASTIC_SPEC)).train, ELASTIC_SPLIT);
    const seed = Array.from({ length: 30 }, (_, s) => s).find((s) => planFault({ signal: 'SIGKILL', seed: s }, 3).rank === 0)!;
    const plan = planFault({ signal: 'SIGKILL', seed }, 3);
    const { state, info } = await fitInNamespaces<object>({
      model: ELASTIC_MODEL.name,
      params: ELASTIC_MODEL.params,
      data: whole.train,
      workers: 3,
      minWorkers: 2,
      inject: { signal: 'SIGKILL', seed },
      timeoutMs: 20_000,
    });
    assert.equal(info.injected?.rank, plan.rank);
    assert.ok(info.injected?.firedAtMs !== null, JSON.stringify(info.injected));
    assert.equal(info.workers, 2);
    assert.equal(info.faults?.length, 1, JSON.stringify(info.faults));
    assert.equal(info.faults![0]!.rank, plan.rank);
    assert.equal(
      info.rows!.reduce((a, b) => a + b, 0),
      whole.train.rows,
      'the survivors trained on every row',
    );
    const model = createModel(ELASTIC_MODEL.name, ELASTIC_MODEL.params);
    model.setState(state);
    const undisturbed = await createModel(ELASTIC_MODEL.name, ELASTIC_MODEL.params).fit(whole.train);
    const accuracy = model.score(whole.test);
    assert.ok(Math.abs(accuracy - undisturbed.score(whole.test)) <= 0.01, `accuracy ${accuracy}`);
    console.log(`netns fault: ${JSON.stringify(info.faults![0])}; accuracy ${accuracy}`);
  },
);
