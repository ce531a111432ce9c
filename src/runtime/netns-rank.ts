/**
 * One rank of a namespace cluster job (netns-cluster.ts starts it as `ip netns exec <ns> node
 * netns-rank.js <job.json>`): reads its place from the rendezvous environment (MASTER_ADDR, RANK, …),
 * its training rows from the shard file the launcher wrote, and fits with paradigm 'cluster' — the
 * same launcher (cluster.ts) a rank under torchrun or Kubernetes runs. Rank 0 writes the learned
 * state and fit info (v8-serialized) to the job's output file. Any error: its message on stderr,
 * exit code 1 (4 when a peer was lost or timed out, as the CLI does).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import '../core/index.js';
import '../models/index.js';
import './launchers.js';
import { ShardlearnError } from '../core/errors.js';
import { Dataset } from '../data/dataset.js';
import type { DatasetInit } from '../data/dataset.js';
import type { PipelineOptions } from '../models/neural/pipeline/settings.js';
import { createModel } from '../models/registry.js';
import { rendezvousFromEnv } from './rendezvous.js';

/** What the launcher tells every rank (the JSON file named in argv). */
export interface RankJob {
  model: string;
  params: Record<string, unknown>;
  strategy: string;
  /** FitOptions.pipeline, when the fit trains as a pipeline. */
  pipeline?: PipelineOptions;
  timeoutMs: number;
  /** Shard file of each rank, index = rank (v8-serialized DatasetInit). */
  shards: string[];
  /** Where rank 0 writes { state, info }. */
  out: string;
}

async function main(jobFile: string): Promise<void> {
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as RankJob;
  const { rank } = rendezvousFromEnv();
  const shard = new Dataset(deserialize(readFileSync(job.shards[rank]!)) as DatasetInit);
  const model = await createModel(job.model, job.params).fit(shard, { paradigm: 'cluster', strategy: job.strategy, ...(job.pipeline === undefined ? {} : { pipeline: job.pipeline }), timeoutMs: job.timeoutMs });
  if (rank === 0) writeFileSync(job.out, serialize({ state: model.state, info: model.fitInfo }));
}

const jobFile = process.argv[2];
if (jobFile !== undefined && process.env['SHARDLEARN_NETNS_RANK'] === '1') {
  try {
    await main(jobFile);
    process.exit(0); // the output is written synchronously; nothing else is owed
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ShardlearnError && (error.code === 'PEER_LOST' || error.code === 'TIMEOUT') ? 4 : 1);
  }
}
