/**
 * The seed paper's claims (Peng, "Comparison of Distributed and Parallel Machine Learning:
 * Efficiency and Effectiveness in Large-Scale Data Processing") checked against what this
 * comparison measured. Each claim states its section and the evidence for or against it, or says
 * plainly 'not measured yet' — a claim is never marked supported on no data.
 *
 * Terms as the report uses them: *parallel* = threads on one machine (shared memory);
 * *distributed* = processes or cluster (message passing over TCP).
 *
 * @example
 * for (const claim of evaluateClaims(summarize(records))) console.log(claim.verdict, claim.text);
 */
import type { Paradigm } from '../models/paradigm.js';
import { crossover } from './stats.js';
import type { CellSummary } from './summary.js';
import { cellLabel } from './summary.js';
import type { TuningResult } from './tuning.js';
import { parallelActorsClaim } from './rl-report.js';
import { NO_COMPRESSION } from './codec-axis.js';
import { compressionEvidence } from './codec-report.js';
import type { FederatedResult } from './federated-run.js';
import { federatedEvidence } from './federated-report.js';
import type { RunRecord } from './record.js';
import { faultToleranceVerdict } from './fault-report.js';

/**
 * 'not testable here': the claim is about something this machine cannot show either way (adding
 * machines when every rank shares one host's cores), so no measurement here may contradict it —
 * distinct from 'contradicted' (measured, and the data say otherwise) and from 'not measured yet'
 * (testable here, but the matrix has no cells for it).
 */
export type Verdict = 'supported' | 'contradicted' | 'mixed' | 'not testable here' | 'not measured yet';

/** Where the comparison ran: what a claim needs to know to say whether this machine can test it. */
export interface ClaimContext {
  /** Logical CPUs of the host every rank ran on; null = unknown. */
  cores: number | null;
  /** Distinct hosts the ranks ran on (compare's processes and namespace-cluster cells all share one: 1). */
  hosts: number;
}

const ONE_HOST: ClaimContext = { cores: null, hosts: 1 };

export interface ClaimResult {
  id: string;
  /** Where in the paper. */
  section: string;
  text: string;
  verdict: Verdict;
  evidence: string;
}

export const PARALLEL: readonly Paradigm[] = ['threads'];
export const DISTRIBUTED: readonly Paradigm[] = ['processes', 'cluster'];

/** Threshold below which a speedup or slowdown is called noise (5 %, the typical repeat spread here). */
const NOISE = 0.05;

const fmt = (v: number, digits = 2): string => v.toFixed(digits);
const models = (cells: readonly CellSummary[]): string[] => [...new Set(cells.map((c) => c.model))];
const ok = (cells: readonly CellSummary[]): CellSummary[] => cells.filter((c) => c.wallSeconds !== null);

function fastest(cells: readonly CellSummary[]): CellSummary | null {
  return cells.reduce<CellSummary | null>(
    (best, c) => (best === null || c.wallSeconds!.median < best.wallSeconds!.median ? c : best),
    null,
  );
}

function verdictOf(forCount: number, againstCount: number): Verdict {
  if (forCount === 0 && againstCount === 0) return 'not measured yet';
  if (againstCount === 0) return 'supported';
  if (forCount === 0) return 'contradicted';
  return 'mixed';
}

interface Pair {
  model: string;
  rows: number;
  workers: number;
  parallel: CellSummary;
  distributed: CellSummary;
}

/**
 * Parallel against distributed like for like: per model, data size and worker count (≥ 2, where
 * the paradigms differ in how workers talk), the fastest parallel and the fastest distributed cell —
 * of one strategy when `strategy` is given.
 */
function pairs(cells: readonly CellSummary[], strategy?: string): Pair[] {
  const out: Pair[] = [];
  for (const model of models(cells)) {
    const mine = ok(cells).filter((c) => c.model === model && c.workers >= 2 && (strategy === undefined || c.strategy === strategy));
    for (const rows of [...new Set(mine.map((c) => c.trainRows))].sort((a, b) => a - b)) {
      for (const workers of [...new Set(mine.map((c) => c.workers))].sort((a, b) => a - b)) {
        const here = mine.filter((c) => c.trainRows === rows && c.workers === workers);
        const parallel = fastest(here.filter((c) => PARALLEL.includes(c.paradigm)));
        const distributed = fastest(here.filter((c) => DISTRIBUTED.includes(c.paradigm)));
        if (parallel !== null && distributed !== null) out.push({ model, rows, workers, parallel, distributed });
      }
    }
  }
  return out;
}

/** At most `max` items of evidence, then how many more there were. */
function list(items: string[], max = 4): string {
  return items.length <= max ? items.join('; ') : `${items.slice(0, max).join('; ')}; … and ${items.length - max} more`;
}

export interface Crossover {
  model: string;
  /** Training rows at which distributed becomes at least as fast as parallel; null if it never does in the measured range. */
  rows: number | null;
  sizes: number[];
}

/** Where distributed overtakes parallel, per model (at its largest worker count measured on both sides at 2+ sizes). */
export function crossovers(cells: readonly CellSummary[]): Crossover[] {
  const byKey = new Map<string, { model: string; points: { rows: number; parallel: number; distributed: number }[] }>();
  for (const p of pairs(cells)) {
    const key = `${p.model}|${p.workers}`;
    const entry = byKey.get(key) ?? { model: p.model, points: [] };
    entry.points.push({ rows: p.rows, parallel: p.parallel.wallSeconds!.median, distributed: p.distributed.wallSeconds!.median });
    byKey.set(key, entry);
  }
  const byModel = new Map<string, Crossover>();
  for (const { model, points } of byKey.values()) {
    if (points.length < 2) continue;
    const xs = points.map((p) => p.rows);
    const first = points[0]!;
    const rows =
      first.distributed <= first.parallel
        ? xs[0]!
        : crossover(
            xs,
            points.map((p) => p.parallel),
            points.map((p) => p.distributed),
          );
    byModel.set(model, { model, rows, sizes: xs }); // later keys have more workers: keep the largest
  }
  return [...byModel.values()];
}

function measuredDistributed(cells: readonly CellSummary[]): boolean {
  return ok(cells).some((c) => DISTRIBUTED.includes(c.paradigm));
}

/** Strategies whose workers update without waiting for each other (bounded staleness counts). */
export function isAsynchronous(strategy: string): boolean {
  return strategy === 'hogwild' || strategy === 'ps-async' || strategy.startsWith('ps-ssp:');
}

const NO_DISTRIBUTED = 'no distributed paradigm (processes, cluster) was measured in this comparison';
const NO_MULTI_WORKER_DISTRIBUTED = (cells: readonly CellSummary[]): string =>
  measuredDistributed(cells)
    ? 'threads and a distributed paradigm were not both measured with the same number of workers (≥ 2)'
    : NO_DISTRIBUTED;

/** What the claims read besides the paradigm cells: each kind of check has its own table and runs. */
export interface MeasuredBeyondCells {
  /** The tuning checks (tuning.ts): claim 'automl-tuning'. */
  tuning?: readonly TuningResult[];
  /** The federated cells (federated-run.ts): claim 'federated-privacy'. */
  federated?: readonly FederatedResult[];
  /** The fault cells' runs (fault-cells.ts), which the paradigm cells leave out: claim 'fault-tolerance'. */
  faultRecords?: readonly RunRecord[];
}

/**
 * The claims' verdicts. `context` says where the ranks ran (default: one host, cores unknown); on
 * one host, the scalability claim is 'not testable here' unless distributed overtakes parallel anyway.
 */
export function evaluateClaims(
  all: readonly CellSummary[],
  context: ClaimContext = ONE_HOST,
  measured: MeasuredBeyondCells = {},
): ClaimResult[] {
  const { tuning = [], federated = [], faultRecords = [] } = measured;
  const results: ClaimResult[] = [];
  // The paradigm claims compare paradigms as they send gradients uncompressed; the codec cells
  // answer the compression claim (codec-report.ts).
  const cells = all.filter((c) => c.compression === NO_COMPRESSION);

  // 1. Parallel is faster on smaller tasks.
  {
    const smallest = pairs(cells).filter(
      (p, _, all) => p.rows === Math.min(...all.filter((q) => q.model === p.model && q.workers === p.workers).map((q) => q.rows)),
    );
    const forIt = smallest.filter((p) => p.parallel.wallSeconds!.median < p.distributed.wallSeconds!.median);
    results.push({
      id: 'parallel-wins-small',
      section: 'Abstract; §5; §7',
      text: 'Parallel ML (many CPUs of one machine) is faster than distributed ML on smaller-scale tasks, because it needs little communication.',
      verdict: verdictOf(forIt.length, smallest.length - forIt.length),
      evidence:
        smallest.length === 0
          ? NO_MULTI_WORKER_DISTRIBUTED(cells)
          : list(
              smallest.map(
                (p) =>
                  `${p.model} at ${p.rows} rows: ${cellLabel(p.parallel)} ${fmt(p.parallel.wallSeconds!.median, 3)} s vs ${cellLabel(p.distributed)} ${fmt(p.distributed.wallSeconds!.median, 3)} s`,
              ),
            ),
    });
  }

  // 2. Distributed excels at scale: a crossover data size exists.
  {
    const found = crossovers(cells);
    const forIt = found.filter((c) => c.rows !== null);
    const measured = verdictOf(forIt.length, found.length - forIt.length);
    // On one host every distributed rank shares the cores and memory the threads already had: it adds
    // messages and start-up but no compute, so parallel staying faster says nothing about adding
    // machines. Only a crossover in every model measured counts as support there; one model's
    // crossover among others' none is more likely noise at small sizes than scalability.
    const oneHost = context.hosts <= 1;
    const untestable = oneHost && found.length > 0 && forIt.length < found.length;
    const cores = context.cores === null ? '' : ` (${context.cores} cores)`;
    const reason = `every distributed rank ran on this one machine${cores}, sharing the cores and memory the threads had, so distributed could add only communication and start-up, never compute; whether adding machines lets it overtake needs several hosts (see the advisor's predictions for larger clusters)`;
    results.push({
      id: 'distributed-wins-large',
      section: 'Abstract; §5; §7',
      text: 'Distributed ML excels in scalability: on large enough data it overtakes parallel ML.',
      verdict: untestable ? 'not testable here' : measured,
      evidence: !measuredDistributed(cells)
        ? NO_DISTRIBUTED
        : found.length === 0
          ? 'distributed was measured, but not beside threads with the same workers (≥ 2) at two or more data sizes, so no crossover can be located'
          : `${untestable ? `${reason}. Measured: ` : ''}${list(found.map((c) => (c.rows === null ? `${c.model}: parallel stays faster up to ${Math.max(...c.sizes)} rows` : `${c.model}: distributed overtakes parallel at ≈${Math.round(c.rows)} rows`)))}`,
    });
  }

  // 3. Multiple processors on one machine reduce computation time.
  {
    const multi = ok(cells).filter((c) => PARALLEL.includes(c.paradigm) && c.workers > 1 && c.speedup !== null);
    const forIt = multi.filter((c) => c.speedup! > 1 + NOISE);
    const against = multi.filter((c) => c.speedup! < 1 - NOISE);
    results.push({
      id: 'multicore-speedup',
      section: '§1; §4; §5',
      text: 'Dividing the work over several processors of one machine reduces computation time.',
      verdict: verdictOf(forIt.length, against.length),
      evidence:
        multi.length === 0
          ? 'no threads cell with more than one worker and a sequential baseline was measured'
          : `${forIt.length} of ${multi.length} cells faster than sequential; ${list(multi.map((c) => `${c.model} ${c.trainRows} rows ${cellLabel(c)}: ${fmt(c.speedup!)}×`))}`,
    });
  }

  // 4. Communication overhead slows training / hinders scaling.
  {
    const multi = ok(cells).filter((c) => c.paradigm !== 'sequential' && c.workers > 1 && c.commFraction !== null);
    const forIt = multi.filter((c) => c.commFraction! > NOISE || (c.efficiency !== null && c.efficiency < 1 - NOISE));
    results.push({
      id: 'communication-overhead',
      section: '§3; §4; §5',
      text: 'Communication overhead between workers slows training and limits how well it scales.',
      verdict: verdictOf(forIt.length, multi.length - forIt.length),
      evidence:
        multi.length === 0
          ? 'no multi-worker cell was measured'
          : `${forIt.length} of ${multi.length} multi-worker cells spend > 5% of training communicating or scale at < 95% efficiency; ${list(multi.map((c) => `${c.model} ${c.trainRows} rows ${cellLabel(c)}: ${(c.commFraction! * 100).toFixed(1)}% communicating, efficiency ${c.efficiency === null ? '–' : fmt(c.efficiency)}`))}`,
    });
  }

  // 5. Asynchronous updates are faster but less consistent.
  {
    const found: string[] = [];
    let forIt = 0;
    let against = 0;
    for (const h of ok(cells).filter((c) => isAsynchronous(c.strategy) && c.paradigm !== 'sequential' && c.workers >= 2)) {
      const a = ok(cells).find(
        (c) =>
          c.strategy === 'allreduce' && c.model === h.model && c.data === h.data && c.paradigm === h.paradigm && c.workers === h.workers,
      );
      if (a === undefined) continue;
      const faster = h.wallSeconds!.median < a.wallSeconds!.median * (1 - NOISE);
      const scoreGap =
        h.score !== null && a.score !== null
          ? h.higherIsBetter
            ? a.score.median - h.score.median
            : h.score.median - a.score.median
          : null;
      if (faster) forIt++;
      else against++;
      const gapText =
        scoreGap === null
          ? ''
          : scoreGap === 0
            ? `, same ${h.scoreName}`
            : `, ${h.scoreName} ${scoreGap > 0 ? 'worse' : 'better'} by ${Math.abs(scoreGap).toPrecision(2)}`;
      found.push(
        `${h.model} ${h.trainRows} rows ${h.paradigm}×${h.workers}: ${h.strategy} ${fmt(h.wallSeconds!.median, 3)} s vs allreduce ${fmt(a.wallSeconds!.median, 3)} s${gapText}`,
      );
    }
    results.push({
      id: 'async-faster-less-consistent',
      section: '§3 (Synchronization)',
      text: 'Synchronous updates keep workers consistent but add delays; asynchronous updates speed training up but may cost consistency.',
      verdict: verdictOf(forIt, against),
      evidence:
        found.length === 0
          ? 'no asynchronous-strategy cell (hogwild, ps-async, ps-ssp) with a matching allreduce cell was measured'
          : `${forIt} of ${found.length} asynchronous cells faster than allreduce (speed is what is judged; the score gap shows the consistency cost); ${list(found)}`,
    });
  }

  // 6. Data parallelism with averaging keeps accuracy (effectiveness is not traded for speed).
  {
    const found: string[] = [];
    const gaps: string[] = [];
    let forIt = 0;
    let against = 0;
    // An agent's evalReturn after a short budget is not a data-parallel model's accuracy (its actors see other episodes).
    for (const c of ok(cells).filter(
      (x) => x.paradigm !== 'sequential' && x.strategy === 'allreduce' && x.score !== null && x.rl === null,
    )) {
      const base = ok(cells).find((s) => s.paradigm === 'sequential' && s.model === c.model && s.data === c.data && s.score !== null);
      if (base === undefined) continue;
      const gap = Math.abs(c.score!.median - base.score!.median);
      const tolerance = 0.01 * Math.max(1, Math.abs(base.score!.median));
      const line = `${c.model} ${c.trainRows} rows ${cellLabel(c)}: ${c.scoreName} ${c.score!.median.toPrecision(4)} vs sequential ${base.score!.median.toPrecision(4)}`;
      found.push(line);
      if (gap <= tolerance) forIt++;
      else {
        against++;
        gaps.push(line);
      }
    }
    results.push({
      id: 'same-accuracy',
      section: '§3 (Data Parallelism)',
      text: 'Data parallelism — each node computes on its part, the results are averaged into the global model — trains as accurate a model as one machine would.',
      verdict: verdictOf(forIt, against),
      evidence:
        found.length === 0
          ? 'no synchronous parallel cell with a sequential baseline score was measured'
          : `${forIt} of ${found.length} allreduce cells score within 1% of sequential; ${list(gaps.length > 0 ? gaps : found, 3)}`,
    });
  }

  // 7. Parallel ML minimizes communication delays compared with distributed.
  {
    // Same strategy on both sides: the transport, not the algorithm, should make the difference.
    const found = pairs(cells, 'allreduce').filter((p) => p.parallel.commMs !== null && p.distributed.commMs !== null);
    const forIt = found.filter((p) => p.parallel.commMs!.median < p.distributed.commMs!.median);
    results.push({
      id: 'parallel-less-communication',
      section: '§5',
      text: 'Parallel ML within one machine minimizes communication delays compared with distributed ML.',
      verdict: verdictOf(forIt.length, found.length - forIt.length),
      evidence:
        found.length === 0
          ? NO_MULTI_WORKER_DISTRIBUTED(cells)
          : list(
              found.map(
                (p) =>
                  `${p.model} at ${p.rows} rows, ${p.workers} workers: ${cellLabel(p.parallel)} ${fmt(p.parallel.commMs!.median, 1)} ms vs ${cellLabel(p.distributed)} ${fmt(p.distributed.commMs!.median, 1)} ms communicating`,
              ),
            ),
    });
  }

  results.push(tuningClaim(tuning));
  results.push(parallelActorsClaim(cells));
  results.push({
    id: 'gradient-compression',
    section: '§4',
    text: 'Gradient compression reduces the amount of data sent between processors.',
    ...compressionVerdict(all),
  });
  results.push(faultToleranceClaim(faultRecords));
  results.push(federatedClaim(federated));
  return results;
}

/** C4: supported only where every faulted cell completed within 1 point of its undisturbed twin (fault-report.ts). */
function faultToleranceClaim(faultRecords: readonly RunRecord[]): ClaimResult {
  const { forCount, againstCount, evidence } = faultToleranceVerdict(faultRecords);
  return {
    id: 'fault-tolerance',
    section: 'Abstract; §3',
    text: 'Distributed ML excels in fault tolerance.',
    verdict: verdictOf(forCount, againstCount),
    evidence,
  };
}

/**
 * C10, §1 and §3: federated learning lets entities train together without sharing raw data. For: a
 * partition (IID, Dirichlet α) where some aggregator brought the global model to the target score
 * within the round cap; against: one where none did. The cost — rounds, bytes against the raw rows,
 * the centralised score, secure aggregation's bytes, DP's ε — is the evidence (federated-report.ts).
 */
function federatedClaim(federated: readonly FederatedResult[]): ClaimResult {
  const { forCount, againstCount, evidence } = federatedEvidence(federated);
  return {
    id: 'federated-privacy',
    section: '§1; §3',
    text: 'Federated learning lets entities train a model together without sharing their raw data, at a cost in rounds, bytes and accuracy against centralised training.',
    verdict: verdictOf(forCount, againstCount),
    evidence,
  };
}

/** A held-out score difference within this is a tie (half a point of accuracy or r²). */
const SCORE_NOISE = 0.005;

/**
 * §6: tuning by cross-validation (AutoML) gives models that generalise better. For and against: a
 * tuned model's held-out score above or below its defaults' by more than SCORE_NOISE; a tie is neither.
 */
function tuningClaim(tuning: readonly TuningResult[]): ClaimResult {
  const measured = tuning.filter((t) => t.error === null && t.tunedScore !== null && t.defaultScore !== null);
  const gain = (t: TuningResult): number => t.tunedScore! - t.defaultScore!;
  const forIt = measured.filter((t) => gain(t) > SCORE_NOISE);
  const against = measured.filter((t) => gain(t) < -SCORE_NOISE);
  const verdict = measured.length > 0 && forIt.length === 0 && against.length === 0 ? 'mixed' : verdictOf(forIt.length, against.length);
  return {
    id: 'automl-tuning',
    section: '§6',
    text: 'AutoML (hyperparameter tuning with cross-validation) helps models generalise: tuned models score better on unseen data.',
    verdict,
    evidence:
      measured.length === 0
        ? tuning.length === 0
          ? "the comparison ran no tuning check (the matrix's 'tuning' list)"
          : `every tuning check failed: ${tuning.map((t) => t.error).join('; ')}`
        : list(
            measured.map(
              (t) =>
                `${t.model} on ${t.trainRows} training rows (${t.searcher}, ${t.trials} trials, ${t.cv}-fold CV): held-out ${t.metric} ${fmt(t.defaultScore!, 4)} with defaults, ${fmt(t.tunedScore!, 4)} tuned (${gain(t) >= 0 ? '+' : ''}${fmt(gain(t), 4)})`,
            ),
          ),
  };
}

function compressionVerdict(cells: readonly CellSummary[]): { verdict: Verdict; evidence: string } {
  const { forCount, againstCount, evidence } = compressionEvidence(cells);
  return { verdict: verdictOf(forCount, againstCount), evidence };
}
