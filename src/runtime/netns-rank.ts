/**
 * One rank of a namespace cluster job (netns-cluster.ts starts it as `ip netns exec <ns> node
 * netns-rank.js <job file> <report file>`): reads its place from the rendezvous environment
 * (MASTER_ADDR, RANK, …) and its RankJob (v8-serialized, its shard's rows included) from the job
 * file, and runs the same cluster rank body (cluster.ts `runClusterRank`) a rank under torchrun or
 * Kubernetes runs. It writes its RankMessages — rank 0's progress and every rank's result, or its
 * error report — v8-serialized to the report file, which the launcher reads as the other paradigms'
 * launchers read IPC. On error it also says the message on stderr and exits 1 (4 when a peer was
 * lost or timed out, as the CLI does).
 *
 * Under a restart policy (job.elastic) a re-formed generation's rows come from the file the launcher
 * names in SHARDLEARN_NETNS_ROWS (every training row, v8-serialized; namespaces share the file
 * system): this rank's contiguous shard of the new world, as `processes` sends them. With
 * SHARDLEARN_NETNS_PROGRESS=1, rank 0's progress also goes to stdout as it happens (one JSON array
 * of events per line), for a launcher that acts on it mid-run (fault injection).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import '../core/index.js';
import '../models/index.js';
import { ShardlearnError } from '../core/errors.js';
import { runClusterRank } from './cluster.js';
import type { DatasetInit } from '../data/dataset.js';
import { shardRange } from './job.js';
import type { RankData, RankJob, RankMessage } from './rank.js';
import { errorReport, resultForLauncher } from './rank.js';
import { rendezvousFromEnv } from './rendezvous.js';

async function main(jobFile: string, reportFile: string): Promise<void> {
  const job = deserialize(readFileSync(jobFile)) as RankJob;
  const place = rendezvousFromEnv();
  const messages: RankMessage[] = [];
  const live = process.env['SHARDLEARN_NETNS_PROGRESS'] === '1';
  const rowsFile = process.env['SHARDLEARN_NETNS_ROWS'];
  let whole: DatasetInit | undefined;
  const rows =
    rowsFile === undefined
      ? undefined
      : (at: { rank: number; size: number }): Promise<RankData> => {
          whole ??= deserialize(readFileSync(rowsFile)) as DatasetInit;
          return Promise.resolve({ kind: 'rows', init: whole, ...shardRange(whole.rows, at.rank, at.size) });
        };
  try {
    const { result, comm } = await runClusterRank(job, place, {
      progress: (events) => {
        messages.push({ type: 'progress', rank: place.rank, events });
        if (live) process.stdout.write(`${JSON.stringify(events)}\n`);
      },
      ...(rows === undefined ? {} : { rows }),
    });
    await comm.close();
    messages.push(resultForLauncher(result));
  } catch (error) {
    writeFileSync(reportFile, serialize([errorReport(place.rank, error)]));
    throw error;
  }
  writeFileSync(reportFile, serialize(messages));
}

const [jobFile, reportFile] = process.argv.slice(2);
if (jobFile !== undefined && reportFile !== undefined && process.env['SHARDLEARN_NETNS_RANK'] === '1') {
  try {
    await main(jobFile, reportFile);
    process.exit(0); // the report is written synchronously; nothing else is owed
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ShardlearnError && (error.code === 'PEER_LOST' || error.code === 'TIMEOUT') ? 4 : 1);
  }
}
