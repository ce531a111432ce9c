/**
 * One rank of a `cluster` test job: reads its place from the rendezvous environment, loads only its
 * shard of the synthetic source, trains with paradigm 'cluster', and rank 0 writes the learned state
 * and fit info (v8-serialized) to the file named in argv. Started by the cluster tests through
 * `launchLocal` or `ip netns exec`; when the test runner loads this file itself it does nothing.
 */
import { writeFileSync } from 'node:fs';
import { serialize } from 'node:v8';
import '../../src/index.js';
import { loadData } from '../../src/data/load.js';
import { createModel } from '../../src/models/registry.js';
import { rendezvousFromEnv } from '../../src/runtime/rendezvous.js';

export const CLUSTER_MODEL = { name: 'logistic-regression', params: { solver: 'sgd', epochs: 3, batchSize: 64, lr: 0.1 } };

if (process.env['SHARDLEARN_CLUSTER_TEST'] === '1') {
  const [spec, out] = process.argv.slice(2);
  const { rank, worldSize } = rendezvousFromEnv();
  if (process.env['SHARDLEARN_TEST_FAIL_RANK'] === String(rank)) process.exit(3);
  const { train } = await loadData(spec!, { shard: { rank, worldSize } });
  const model = await createModel(CLUSTER_MODEL.name, CLUSTER_MODEL.params).fit(train, { paradigm: 'cluster', timeoutMs: 20_000 });
  if (rank === 0) writeFileSync(out!, serialize({ state: model.state, info: model.fitInfo }));
}
