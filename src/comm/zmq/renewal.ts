/**
 * The renewal of a kept world: a local world (zmq/local.ts) whose ranks stay joined after a job, so
 * that the next job of the same pooled processes (FitOptions.reuseProcesses, runtime/process-pool.ts)
 * starts without binding, handshaking and connecting again — 10–15 ms of a warm processes×2 fit here,
 * more than a small fit's training.
 *
 * A kept world is taken over by the next job only if every rank agrees, in two rounds of `renew`
 * messages on the world's ZeroMQ connections:
 *   1. every rank sends every peer the next job's id and the proof of the next job's secret (the
 *      hello's proof, zmq/local.ts); each rank checks what it receives against its own job, and that
 *      nothing of the last job waits unread (a message that arrived before a peer's renewal — ZeroMQ
 *      keeps each connection's order, so the last job's messages are in by then);
 *   2. every rank sends its verdict; the world is renewed when all are yes.
 * A rank that cannot renew (a wrong secret, another job, unread messages, a lost peer, no answer in
 * time) says so in round 2, and every rank then closes the kept world and joins a fresh one in the
 * job's own folder, as if there had been none: nothing the renewal decides reaches training.
 *
 * A renewed world's hello identity becomes the new job's, so a hello proving the last job's secret
 * or naming its id is refused as in a fresh world (every rank has joined anyway: no hello is admitted).
 *
 * @example
 * renewalFields({ jobId: 'job-2', proof }, 1);          // { job: 'job-2', proof, round: 1 }
 * renewalProblem({ jobId: 'job-2', proof }, 1, fields); // null when `fields` prove job-2's secret
 */
import { proofMatches } from './local.js';

/** The job a kept world is renewed for: its id and the proof of its secret (helloProof). */
export interface RenewalIdentity {
  jobId: string;
  proof: string;
}

/** The fields of a round-1 renewal (the proof) or a round-2 one (the verdict: `ok`). */
export function renewalFields(next: RenewalIdentity, round: 1 | 2, ok?: boolean): Record<string, unknown> {
  return round === 1 ? { job: next.jobId, proof: next.proof, round } : { job: next.jobId, round, ok: ok === true };
}

/** Why a peer's renewal message of `round` does not match this rank's next job, or null. */
export function renewalProblem(own: RenewalIdentity, round: 1 | 2, fields: Record<string, unknown> | undefined): string | null {
  if (fields === undefined) return 'a renewal without fields';
  if (fields['round'] !== round) return `a renewal of round ${JSON.stringify(fields['round'])} where round ${round} was due`;
  if (fields['job'] !== own.jobId) return `it renews for job ${JSON.stringify(fields['job'])}, not for this rank's next job`;
  if (round === 1 && !proofMatches(own.proof, fields['proof'])) return "it does not prove the next job's secret";
  if (round === 2 && typeof fields['ok'] !== 'boolean') return 'a verdict that is neither yes nor no';
  return null;
}
