/**
 * The report's reinforcement-learning evidence (rl-cells.ts measures it): per agent cell, env
 * steps/s against one actor (the sequential cell), the learner's utilisation, the wall time to the
 * target return; where the learner becomes the bottleneck; and the seed's parallel-speedup claim
 * judged on parallel actors.
 *
 * @example
 * const html = rlSection(summarize(records), escapeHtml);
 */
import type { Paradigm } from '../models/paradigm.js';
import type { CellSummary } from './summary.js';
import { cellLabel } from './summary.js';

/** A speedup within 5 % either way is noise (as claims.ts counts it). */
const NOISE = 0.05;

const isRl = (c: CellSummary): boolean => c.rl !== null && c.wallSeconds !== null;

/** The one-actor (sequential) cell of the same agent, options and environment. */
function oneActor(cells: readonly CellSummary[], cell: CellSummary): CellSummary | null {
  const same = JSON.stringify(cell.params);
  return (
    cells.find(
      (c) => isRl(c) && c.paradigm === 'sequential' && c.model === cell.model && c.data === cell.data && JSON.stringify(c.params) === same,
    ) ?? null
  );
}

export interface ActorComparison {
  cell: CellSummary;
  base: CellSummary;
  /** Env steps/s of the cell over the one-actor cell's (medians); null if either lacks it. */
  rateRatio: number | null;
  /** Wall seconds to the target: the cell's median over the one-actor cell's; null unless both reached it. */
  timeRatio: number | null;
}

/** Every parallel RL cell (2+ actors) beside its one-actor cell. */
export function actorComparisons(cells: readonly CellSummary[]): ActorComparison[] {
  const out: ActorComparison[] = [];
  for (const cell of cells.filter((c) => isRl(c) && c.paradigm !== 'sequential' && c.workers >= 2)) {
    const base = oneActor(cells, cell);
    if (base === null) continue;
    const rate = cell.rl!.envStepsPerSecond?.median;
    const baseRate = base.rl!.envStepsPerSecond?.median;
    const time = cell.rl!.timeToTargetMs?.median;
    const baseTime = base.rl!.timeToTargetMs?.median;
    out.push({
      cell,
      base,
      rateRatio: rate !== undefined && baseRate !== undefined && baseRate > 0 ? rate / baseRate : null,
      timeRatio: time !== undefined && baseTime !== undefined && baseTime > 0 ? time / baseTime : null,
    });
  }
  return out;
}

function actors(cell: { paradigm: Paradigm; workers: number; params: Record<string, unknown> }): number {
  return cell.params['actors'] === 'async' && cell.workers > 1 ? cell.workers - 1 : cell.workers;
}

const percent = (v: number): string => `${(v * 100).toFixed(0)}%`;

/** The claim the seed makes of parallel speedup, judged on parallel actors (claims.ts lists it with the others). */
export function parallelActorsClaim(cells: readonly CellSummary[]): {
  id: string;
  section: string;
  text: string;
  verdict: 'supported' | 'contradicted' | 'mixed' | 'not measured yet';
  evidence: string;
} {
  const found = actorComparisons(cells).filter((c) => c.rateRatio !== null);
  let forIt = 0;
  let against = 0;
  const lines = found.map((c) => {
    const faster = c.rateRatio! > 1 + NOISE && (c.timeRatio === null || c.timeRatio < 1 - NOISE);
    const slower = c.rateRatio! < 1 - NOISE || (c.timeRatio !== null && c.timeRatio > 1 + NOISE);
    if (faster) forIt++;
    else if (slower) against++;
    const time = c.timeRatio === null ? '' : `, ${c.timeRatio.toFixed(2)}× the wall time to target`;
    return `${c.cell.model} ${c.cell.data} ${cellLabel(c.cell)} (${actors(c.cell)} actors): ${c.rateRatio!.toFixed(2)}× one actor's env steps/s${time}`;
  });
  const verdict = forIt === 0 && against === 0 ? 'not measured yet' : against === 0 ? 'supported' : forIt === 0 ? 'contradicted' : 'mixed';
  return {
    id: 'parallel-actors',
    section: '§2 (Q-learning, DQN); §5',
    text: 'Parallel workers speed reinforcement learning up: more actors take more environment steps per second and reach the target in less wall time.',
    verdict,
    evidence:
      found.length === 0
        ? 'no reinforcement-learning cell with 2+ actors beside a one-actor (sequential) cell was measured'
        : `${forIt} of ${found.length} parallel-actor cells faster than one actor; ${lines.join('; ')}`,
  };
}

/** Where the learner limits a DQN run, in words, from its utilisation with one actor and with more. */
function bottleneck(comparisons: readonly ActorComparison[]): string[] {
  return comparisons
    .filter((c) => c.cell.rl!.learnerUtilisation !== null && c.base.rl!.learnerUtilisation !== null)
    .map((c) => {
      const one = c.base.rl!.learnerUtilisation!.median;
      const many = c.cell.rl!.learnerUtilisation!.median;
      const limit =
        many >= 0.9
          ? 'the learner is the bottleneck: more actors can only wait for it'
          : many >= 0.6
            ? 'the learner is close to saturated: a third actor would mostly wait'
            : 'the learner has room: acting, communication or start-up limit this cell';
      return `${c.cell.model} ${cellLabel(c.cell)}: the learner spends ${percent(many)} of its wall time in gradient steps (one actor: ${percent(one)}) — ${limit}.`;
    });
}

/** The report section: a table of every RL cell and the bottleneck in words; '' when no agent ran. */
export function rlSection(cells: readonly CellSummary[], escape: (value: unknown) => string): string {
  const rl = cells.filter(isRl);
  if (rl.length === 0) return '';
  const comparisons = actorComparisons(cells);
  const ratio = new Map(comparisons.map((c) => [c.cell.cellId, c]));
  const header = [
    'model',
    'environment',
    'cell',
    'actors',
    'wall s',
    'env steps/s',
    '× one actor',
    'learner utilisation',
    's to target',
    'evalReturn',
  ];
  const rows = rl.map((c) => {
    const f = c.rl!;
    const vs = ratio.get(c.cellId);
    return [
      c.model,
      c.data,
      cellLabel(c),
      String(actors(c)),
      c.wallSeconds!.median.toFixed(2),
      f.envStepsPerSecond === null ? '–' : Math.round(f.envStepsPerSecond.median).toLocaleString('en-US'),
      vs === undefined || vs.rateRatio === null ? '–' : `${vs.rateRatio.toFixed(2)}×`,
      f.learnerUtilisation === null ? '–' : percent(f.learnerUtilisation.median),
      f.timeToTargetMs === null ? `– (0 of ${c.runs})` : `${(f.timeToTargetMs.median / 1000).toFixed(2)} (${f.reachedTarget} of ${c.runs})`,
      c.score === null ? '–' : c.score.median.toPrecision(4),
    ];
  });
  const head = `<tr>${header.map((h) => `<th>${escape(h)}</th>`).join('')}</tr>`;
  const body = rows.map((r) => `<tr>${r.map((v, i) => `<td${i >= 3 ? ' class="num"' : ''}>${escape(v)}</td>`).join('')}</tr>`).join('\n');
  const words = bottleneck(comparisons);
  return `<section id="rl"><p class="note">Agents train on an environment, one actor per worker (DQN's asynchronous mode: workers − 1 actors and a learner). Env steps/s: all actors between rank 0's first and last progress event; × one actor: over the sequential cell's. Learner utilisation (DQN): the fraction of the learner's wall time in gradient steps. Time to target: from the start of the fit to the first progress event whose mean training return (last 100 episodes) reached the cell's target return (its score target, else the environment's: CartPole 475, FrozenLake 0.70). Medians over repeats.</p>
<div class="scroll"><table>${head}\n${body}</table></div>
${words.length === 0 ? '' : `<ul>${words.map((w) => `<li>${escape(w)}</li>`).join('')}</ul>`}</section>`;
}
