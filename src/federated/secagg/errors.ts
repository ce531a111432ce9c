/**
 * The one error secure aggregation throws on purpose. `client` names the client at fault (the sender
 * of a refused message, a client whose key or shares do not check out) and `phase` the protocol step.
 * `PEER_LOST` (recoverable: run the round again) when too few clients remain for the threshold;
 * `COMM` (not recoverable) for a malformed, unexpected or forged message.
 */
import { CommError } from '../../core/errors.js';

export type SecAggPhase = 'advertise' | 'share' | 'masked-input' | 'unmask' | 'result' | 'setup';

export class SecAggError extends CommError {
  readonly client: number | undefined;
  readonly phase: SecAggPhase;

  constructor(
    code: 'COMM' | 'PEER_LOST',
    where: { round: number; phase: SecAggPhase; client?: number | undefined },
    message: string,
    options: { cause?: unknown } = {},
  ) {
    const who = where.client === undefined ? '' : `, client ${where.client}`;
    super(code, `secure aggregation round ${where.round}, ${where.phase}${who}: ${message}`, {
      ...options,
      ...(where.client === undefined ? {} : { rank: where.client }),
    });
    this.client = where.client;
    this.phase = where.phase;
  }
}
