/**
 * The loop of a federated client host that is a rank of a ZeroMQ world (a child process of
 * `--clients-on processes`, a remote host of `--clients-on hosts`): serve the server (rank 0) until
 * it says 'stop'. Plain 'train' tasks are answered with the update (or 'failed' with the client's
 * error); secure aggregation's messages go to the clients' sides of the protocol on this host
 * (federated-secure-client.ts). A lost server ends the loop with PEER_LOST.
 *
 * @example
 * await serveClients(comm, job, (client) => rowsOfClient(client));
 */
import type { Communicator } from '../comm/communicator.js';
import { ShardlearnError } from '../core/errors.js';
import type { Dataset } from '../data/dataset.js';
import { SECAGG_TAG } from '../federated/secagg/comm-message.js';
import type { ClientJob, ClientTask } from './federated-client.js';
import { runClientTask } from './federated-client.js';
import { uploadEncoder } from './federated-upload.js';
import { SECURE_TRAIN_TAG, SecureClientSide } from './federated-secure-client.js';

/** A client's error as the fields of a 'failed' answer. */
export function failure(error: unknown): { message: string; code: string | undefined; name: string } {
  return {
    message: error instanceof Error ? error.message : String(error),
    code: error instanceof ShardlearnError ? error.code : undefined,
    name: error instanceof Error ? error.name : 'Error',
  };
}

/** Serve until 'stop'; returns the number of messages served. */
export async function serveClients(comm: Communicator, job: ClientJob, rowsOf: (client: number) => Dataset): Promise<{ tasks: number }> {
  const side = new SecureClientSide();
  // This host's clients keep their codec memory here (client c always runs on the same host).
  const encoder = uploadEncoder(job.upload);
  let tasks = 0;
  for (;;) {
    let message;
    try {
      message = await comm.recv(0);
    } catch (error) {
      if (error instanceof ShardlearnError && error.code === 'TIMEOUT') continue; // not sampled for a while
      throw error;
    }
    if (message.tag === 'stop') return { tasks };
    tasks++;
    if (message.tag === SECURE_TRAIN_TAG || message.tag === SECAGG_TAG) {
      await comm.send(0, await side.handle(message, { job, rowsOf }));
      continue;
    }
    const task = message.header as unknown as ClientTask;
    try {
      const { reply, delta, encoded } = await runClientTask(job, task, message.arrays![0] as Float64Array, rowsOf(task.client), encoder);
      // The upload as it crosses the transport: the codec's bytes as a byte frame, or the dense delta.
      await comm.send(0, { tag: 'update', header: { ...reply }, ...(encoded === null ? { arrays: [delta] } : { bytes: [encoded] }) });
    } catch (error) {
      await comm.send(0, { tag: 'failed', header: { round: task.round, client: task.client, ...failure(error) } });
    }
  }
}
