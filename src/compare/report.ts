/**
 * The comparison report: one self-contained HTML file — inline CSS, plots as inline SVG rendered
 * on the server, no script, no external URL — so it opens anywhere, offline, and can be archived.
 *
 * @example
 * writeFileSync('report.html', await renderReport(result));
 */
import type { TopLevelSpec } from 'vega-lite';
import { advisorSpec, breakdownSpec, bytesSpec, lossCurveSpec, renderChart, scalingSpec, speedupSpec } from './charts.js';
import { DISTRIBUTED, crossovers, evaluateClaims } from './claims.js';
import type { Validation } from './advisor.js';
import { validateAdvisor } from './advisor.js';
import { LINKS, PROJECTED_WORKERS, projectBeyond } from './projection.js';
import type { CompareResult } from './record.js';
import type { TuningResult } from './tuning.js';
import type { CellSummary } from './summary.js';
import { cellLabel, formatBytes, summarize, summaryRows } from './summary.js';
import type { OtherAnswer } from './verdict.js';
import { answers, otherAnswers } from './verdict.js';
import { rlSection } from './rl-report.js';
import { NO_COMPRESSION } from './codec-axis.js';
import { codecTableRows } from './codec-report.js';
import type { FederatedResult } from './federated-run.js';
import { fedAvgAgainstFedSgd, federatedSpec, federatedTableRows } from './federated-report.js';
import { faultSection } from './fault-report.js';

/**
 * Text as HTML (element content or a quoted attribute). Everything a report shows from the results
 * database goes through it, numbers included: a tampered file can hold any JSON in `host` or
 * `matrix`, so a field typed as a number may arrive as markup.
 */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; } .scroll { overflow-x: auto; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.summary td { white-space: nowrap; } td[class^="verdict"] { white-space: nowrap; }
figure { display: inline-block; margin: 0.5em 1em 1em 0; } figure svg { max-width: 100%; height: auto; }
.verdict-supported { color: #1a7f37; } .verdict-contradicted { color: #c62828; } .verdict-mixed { color: #b26a00; }
.verdict-not-measured-yet { color: #777; } .verdict-not-testable-here { color: #1565c0; } .note { color: #555; } .warning { background: #fff3cd; padding: 0.5em 1em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 12px; }
`;

async function figure(spec: TopLevelSpec | null, id: string): Promise<string> {
  if (spec === null) return '';
  return `<figure class="chart" id="${escapeHtml(id)}">${await renderChart(spec)}</figure>`;
}

function table(header: string[], rows: string[][], numericFrom = Infinity, className = ''): string {
  const head = `<tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const body = rows
    .map((r) => `<tr>${r.map((c, i) => `<td${i >= numericFrom ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('\n');
  // Wide tables (the summary has 15 columns) scroll inside the page's column instead of overflowing it.
  return `<div class="scroll"><table${className === '' ? '' : ` class="${escapeHtml(className)}"`}>${head}\n${body}</table></div>`;
}

/** The codec cells beside their uncompressed twins; nothing when the matrix had no `compression` list. */
function codecSection(cells: readonly CellSummary[]): string {
  const { header, rows } = codecTableRows(cells);
  if (rows.length === 0) return '';
  return `<h2 id="compression">Gradient compression</h2>
<p class="note">Each codec against the same cell uncompressed: bytes sent summed over ranks as the transport counted them (envelopes included), the test score and wall seconds, medians over repeats. A codec that sends 50× fewer bytes pays in wall time only where the network, not compute, was the bottleneck.</p>
${table(header, rows, 4)}`;
}

function targetTable(cells: readonly CellSummary[]): string {
  const withTarget = cells.filter((c) => c.timeToTargetMs !== null);
  if (withTarget.length === 0) return '';
  return `<h3>Time to target loss</h3>${table(
    ['model', 'paradigm', 'reached in', 'median ms to target'],
    withTarget.map((c) => [c.model, cellLabel(c), `${c.timeToTargetMs!.n} of ${c.runs} runs`, c.timeToTargetMs!.median.toFixed(1)]),
    3,
  )}`;
}

async function crossoverSection(cells: readonly CellSummary[], modelNames: string[]): Promise<string> {
  const distributed = cells.some((c) => DISTRIBUTED.includes(c.paradigm) && c.wallSeconds !== null);
  const charts = (await Promise.all(modelNames.map((m) => figure(scalingSpec(m, cells), `scaling-${m}`)))).join('');
  if (!distributed) {
    return `<p><strong>No distributed paradigm (processes, cluster) was measured</strong>, so there is no data size at which distributed overtakes parallel to report. Run the comparison with <code>"paradigms": ["sequential", "threads", "processes"]</code> and two or more data sizes once those paradigms are available.</p>${charts}`;
  }
  const found = crossovers(cells);
  const lines =
    found.length === 0
      ? '<p>Distributed was measured, but not beside threads at two or more data sizes, so no crossover can be located.</p>'
      : `<ul>${found.map((c) => `<li>${escapeHtml(c.model)}: ${c.rows === null ? `parallel stays faster over the measured sizes (${escapeHtml(c.sizes.join(', '))} rows)` : `distributed overtakes parallel at ≈${escapeHtml(Math.round(c.rows))} training rows (linear interpolation between measured sizes)`}</li>`).join('')}</ul>`;
  return lines + charts;
}

/**
 * Memory per rank against the data (claim C3: each rank holds only its shard). Processes and cluster
 * ranks are processes of their own, so their peak RSS is that rank's memory; threads and sequential
 * share the launcher's process, whose peak never falls during a session, so theirs is an upper bound.
 */
function memorySection(cells: readonly CellSummary[]): string {
  const known = cells.filter((c) => c.rankPeakRssBytes !== null);
  if (known.length === 0) return "<p>No run reported its ranks' memory.</p>";
  const own = (c: CellSummary): boolean => DISTRIBUTED.includes(c.paradigm);
  return `<p class="note">Peak resident set size of a rank's process (the largest over ranks and repeats) beside the training data it splits (rows × columns × 8 bytes) and the shard each rank trains on. Only processes and cluster ranks have a process of their own; threads and sequential show the launcher's shared process, whose peak so far never falls within a session (an upper bound, marked shared).</p>
${table(
  ['model', 'rows', 'cell', 'training data', 'shard per rank', 'peak RSS per rank'],
  known.map((c) => [
    c.model,
    String(c.trainRows),
    cellLabel(c),
    formatBytes(c.dataBytes),
    formatBytes(c.dataBytes / Math.max(1, c.workers)),
    `${formatBytes(c.rankPeakRssBytes!)}${own(c) ? '' : ' (shared)'}`,
  ]),
  3,
)}`;
}

/** Model parallelism: what each pipeline stage holds, against the whole model on one rank. */
function stageMemorySection(records: CompareResult['records']): string {
  const firstOfCell = new Map<string, CompareResult['records'][number]>();
  for (const r of records)
    if (r.status === 'ok' && (r.stageMemory ?? null) !== null && !firstOfCell.has(r.cellId)) firstOfCell.set(r.cellId, r);
  if (firstOfCell.size === 0) return '<p>No pipeline cell was measured (the matrix strategy <code>pipeline</code>).</p>';
  const rows = [...firstOfCell.values()].flatMap((r) => {
    const stages = r.stageMemory!;
    const whole = stages.reduce((sum, m) => sum + m.parameterBytes, 0);
    return stages.map((m) => [
      r.model,
      String(r.trainRows),
      `${r.paradigm}×${r.workers} pipeline`,
      `${m.stage} (layers ${m.layers[0]}–${m.layers[1] - 1})`,
      m.parameters.toLocaleString('en-US'),
      `${formatBytes(m.parameterBytes)} (${((100 * m.parameterBytes) / whole).toFixed(0)}% of ${formatBytes(whole)})`,
      `${formatBytes(m.activationBytes)} (${m.peakMicroBatches} micro-batches)`,
      r.rankPeakRssBytes === null ? '–' : `${formatBytes(r.rankPeakRssBytes)}${DISTRIBUTED.includes(r.paradigm) ? '' : ' (shared)'}`,
    ]);
  });
  return `<p class="note">Each stage of a pipeline holds only its layers' parameters (with their gradients and optimizer state) and the activations of the micro-batches its schedule keeps between forward and backward (GPipe: all of them; 1F1B: at most S − s). Counted from the network and schedule each fit trained with; the peak RSS column is measured (the largest rank's process).</p>
${table(['model', 'rows', 'cell', 'stage', 'parameters', 'parameter memory', 'activation memory (peak)', 'peak RSS per rank'], rows, 4, 'stages')}`;
}

/** The answer first: per model, who wins at which size, by how much and why (verdict.ts); then the federated and fault cells' lines. */
function answerSection(cells: readonly CellSummary[], cores: unknown, others: readonly OtherAnswer[]): string {
  const found = answers(cells);
  const otherItems = others.map(
    (o) => `<li class="answer-${o.topic.toLowerCase()}"><strong>${escapeHtml(o.topic)}</strong>: ${escapeHtml(o.line)}.</li>`,
  );
  if (found.length === 0 && otherItems.length === 0)
    return '<section id="verdict"><h2>The answer</h2><p>No run finished, so there is no answer yet; see the failed runs below.</p></section>';
  const items = [
    ...found.map(
      (f) =>
        `<li><strong>${escapeHtml(f.model)}</strong>: ${escapeHtml(f.headline)}.<ul>${f.sizes.map((s) => `<li>${escapeHtml(s.sentence)}</li>`).join('')}</ul></li>`,
    ),
    ...otherItems,
  ].join('\n');
  return `<section id="verdict"><h2>The answer</h2>
<p class="note">On this machine (${escapeHtml(cores)} CPUs, every rank on it): the fastest paradigm per model and training size by median wall seconds, and where each slower paradigm's extra time went — <em>start-up</em> (until every rank was ready to train, as the paradigm timed it; where it did not, the wall time the ranks did not spend in their training loop: starting threads or processes, loading code, handing over the data), <em>communication</em> (time inside communicator calls) or <em>compute</em> (the rest of training).${others.some((o) => o.topic === 'Federated') ? ' Federated: rounds to the target score per aggregator and partition.' : ''}${others.some((o) => o.topic === 'Faults') ? ' Faults: one rank killed or stopped, against the same cell undisturbed.' : ''} The sections below are the evidence.</p>
<ul class="answers">${items}</ul></section>`;
}

/** The cost model checked against this comparison: each cell predicted from the other cells' runs. */
async function advisorSection(validation: Validation): Promise<string> {
  if (validation.medianRelativeError === null) return '<p>No finished run to check the cost model against.</p>';
  const percent = (x: number): string => `${(x * 100).toFixed(0)}%`;
  const agreement =
    validation.rankAgreement === null
      ? ''
      : ` It names the faster of two cells of the same model and size in ${percent(validation.rankAgreement)} of pairs.`;
  return `<p id="advisor-error">Median absolute relative error of the predicted wall time: <strong>${percent(validation.medianRelativeError)}</strong> over ${validation.cells.length} cells.${agreement}</p>
<p class="note">Leave one cell out: the cost model (start-up, with the rows shipped to process ranks + compute, at the speed each paradigm's ranks run the model's code + communication; see <code>shardlearn advise</code>) is calibrated by least squares on every other cell's runs and predicts the left-out cell's median wall seconds, so no cell helps predict itself. A paradigm measured in one cell only is predicted from defaults.</p>
${await figure(advisorSpec(validation.cells), 'advisor')}
${table(
  ['model', 'rows', 'cell', 'measured s', 'predicted s', 'error'],
  validation.cells.map((c) => [
    c.model,
    String(c.trainRows),
    c.label,
    c.measuredSeconds.toFixed(3),
    c.predictedSeconds.toFixed(3),
    percent(c.relativeError),
  ]),
  3,
)}`;
}

/** Beyond this machine: the cost model's predictions for 1–64 hosts over 1, 10 and 100 Gbit/s links and 1–100× the data. */
function projectionSection(records: CompareResult['records'], cores: number, validation: Validation): string {
  const projections = projectBeyond(records, cores > 0 ? cores : 1);
  if (projections.length === 0) return '<p>No finished run to calibrate a prediction on.</p>';
  const error =
    validation.medianRelativeError === null
      ? 'its error could not be measured here'
      : `its leave-one-out error on this comparison's cells is ${(validation.medianRelativeError * 100).toFixed(0)}% (median; see <a href="#advisor-error">the advisor section</a>)`;
  const s = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(3));
  const header = ['model', 'training rows', 'this host (best)', ...LINKS.map((l) => `${l.name}: faster from / best cluster`)];
  const rows = projections.flatMap((p) =>
    p.rows.map((r) => [
      p.model,
      `${r.rows.toLocaleString('en-US')}${r.factor === 1 ? ' (measured size)' : ` (${r.factor}×)`}`,
      `${s(r.hostSeconds)} s, ${r.hostLabel}`,
      ...LINKS.map((l) => {
        const times = r.cluster[l.name]!;
        const bestIndex = times.indexOf(Math.min(...times));
        const crossover = r.crossover[l.name];
        return `${crossover === null ? 'never ≤ 64 hosts' : `${crossover} hosts`} / ${PROJECTED_WORKERS[bestIndex]} hosts: ${s(times[bestIndex]!)} s (${(r.hostSeconds / times[bestIndex]!).toFixed(1)}× this host)`;
      }),
    ]),
  );
  return `<p class="note"><strong>Predictions, not measurements.</strong> The cost model calibrated on this comparison's runs predicts a cluster of 1–64 hosts like this one, one rank each (computing at the calibrated speed of a process rank), started at the same time, each receiving its own shard, ring all-reduce over each link class (per-hop latency ${LINKS.map((l) => `${l.name} ${(l.latencySeconds * 1e6).toFixed(0)} µs`).join(', ')}), at the largest measured size and 10× and 100× it, against the best this ${escapeHtml(cores)}-CPU host does. "Faster from" is the smallest cluster predicted to beat this host (the crossover). Memory limits, stragglers and failures are not modelled; ${error}.</p>
${table(header, rows, Infinity, 'projection')}`;
}

/** The tuning checks: the search on the training rows only, both models scored on rows it never saw. */
function tuningSection(tuning: readonly TuningResult[]): string {
  if (tuning.length === 0) return "<p>The matrix has no tuning check (its 'tuning' list).</p>";
  const score = (v: number | null): string => (v === null ? '–' : v.toFixed(4));
  return `<p class="note">Each model's options were searched by cross-validation on the training rows only; then the defaults and the best options were fitted on all training rows and scored on the held-out rows.</p>
${table(
  ['model', 'data', 'search', 'metric', 'default', 'tuned', 'CV best', 'best options', 'seconds'],
  tuning.map((t) => [
    t.model,
    t.data,
    `${t.searcher}, ${t.trials} trials, ${t.cv}-fold${t.pipeline ? `, ${t.pipeline}` : ''}`,
    t.metric,
    score(t.defaultScore),
    score(t.tunedScore),
    t.error === null ? score(t.cvScore) : `failed: ${t.error}`,
    JSON.stringify(t.bestParams),
    t.seconds.toFixed(1),
  ]),
  Infinity,
  'tuning',
)}`;
}

/** The federated cells (federated-report.ts): rounds and bytes to the target, IID vs non-IID, FedAvg vs FedSGD. */
async function federatedSection(federated: readonly FederatedResult[]): Promise<string> {
  if (federated.length === 0) return "<p>The matrix has no federated cell (its 'federated' list).</p>";
  const { header, rows } = federatedTableRows(federated);
  const ratios = fedAvgAgainstFedSgd(federated);
  return `<p class="note">Each client holds only its partition of the training rows and sends model updates, never rows. Rounds to target: the first evaluated round whose global model reached the target on the held-out rows ('not within N': the cap was reached first); bytes: the clients' updates up and the global model down, counted at the transport. Centralised: the same model fitted sequentially on all training rows, scored on the same held-out rows.</p>
${table(header, rows, 7, 'federated')}
${ratios.length === 0 ? '' : `<ul>${ratios.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`}
${await figure(federatedSpec(federated, 'rounds'), 'federated-rounds')}${await figure(federatedSpec(federated, 'megabytes'), 'federated-bytes')}`;
}

/** Render the report of a comparison (its records may come fresh from `runCompare` or from the store). */
export async function renderReport(
  result: Pick<CompareResult, 'session' | 'records' | 'skipped' | 'aborted'> & {
    tuning?: readonly TuningResult[];
    federated?: readonly FederatedResult[];
  },
): Promise<string> {
  const { session, skipped } = result;
  // The fault cells have their own section and claim (fault-report.ts); every other section compares undisturbed runs.
  const records = result.records.filter((r) => r.fault === undefined);
  const cells = summarize(records);
  // The answer, the crossover and the advisor compare paradigms sending gradients uncompressed; the
  // codec cells have their own section (codec-report.ts).
  const plainCells = cells.filter((c) => c.compression === NO_COMPRESSION);
  const plainRecords = records.filter((r) => r.compression === NO_COMPRESSION);
  // The cost model's leave-one-out check, once: the advisor section shows it, the predictions quote it.
  const validation = validateAdvisor(plainRecords, session.host.cpus > 0 ? session.host.cpus : undefined);
  const models = [...new Set(cells.map((c) => c.model))];
  const { header, rows } = summaryRows(cells);
  // compare runs every rank on this host (processes, and cluster cells as network namespaces).
  const tuning = result.tuning ?? [];
  const claims = evaluateClaims(
    cells,
    { cores: typeof session.host.cpus === 'number' && session.host.cpus > 0 ? session.host.cpus : null, hosts: 1 },
    { tuning, federated: result.federated ?? [], faultRecords: result.records },
  );
  const failed = records.filter((r) => r.status === 'failed');
  const speedups = (await Promise.all(models.map((m) => figure(speedupSpec(m, cells), `speedup-${m}`)))).join('');
  const curves = (await Promise.all(models.map((m) => figure(lossCurveSpec(m, cells, records), `loss-${m}`)))).join('');
  const host = session.host;
  const rlHtml = rlSection(cells, escapeHtml);

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>shardlearn compare — ${escapeHtml(session.matrix.name)} — ${escapeHtml(session.startedAt)}</title>
<style>${STYLE}</style></head><body>
<h1>shardlearn compare: ${escapeHtml(session.matrix.name)}</h1>
<p class="note">Session ${escapeHtml(session.sessionId)}, started ${escapeHtml(session.startedAt)} ·
shardlearn ${escapeHtml(session.code.packageVersion)} (commit ${escapeHtml(session.code.gitCommit)}) ·
${escapeHtml(host.cpuModel)}, ${escapeHtml(host.cpus)} CPUs, ${typeof host.totalMemoryBytes === 'number' ? (host.totalMemoryBytes / 2 ** 30).toFixed(1) : escapeHtml(host.totalMemoryBytes)} GiB, Node ${escapeHtml(host.nodeVersion)} on ${escapeHtml(host.platform)} ${escapeHtml(host.release)} ·
${result.records.length} runs, ${escapeHtml(session.matrix.repeats)} repeats per cell.</p>
${result.aborted ? '<p class="warning">The comparison was stopped before the end; the report shows the runs that finished.</p>' : ''}

${answerSection(plainCells, host.cpus, otherAnswers({ federated: result.federated ?? [], records: result.records }))}

<h2>Summary</h2>
<p class="note">Median over repeats; [min–max] and the interquartile range show the spread. Speedup = sequential median wall seconds ÷ the cell's median wall seconds, for the same model and data; efficiency = speedup ÷ workers.</p>
${table(header, rows, 3, 'summary')}

<h2>Speedup against workers</h2>
${speedups || '<p>No parallel cell with a sequential baseline was measured.</p>'}

<h2>Time to accuracy</h2>
<p class="note">Training loss as rank 0 reported it, against seconds since training started; one curve per cell, from its median-time repeat.</p>
${curves || '<p>No model reported a training loss.</p>'}
${targetTable(cells)}
${rlHtml === '' ? '' : `\n<h2>Reinforcement learning: parallel actors</h2>\n${rlHtml}`}

<h2>Bytes on the wire</h2>
${(await figure(bytesSpec(cells), 'bytes')) || '<p>Nothing was measured.</p>'}

<h2>Compute and communication</h2>
<p class="note">Communication = milliseconds inside communicator calls (waiting and copying), mean over ranks; compute = the rest of the training time.</p>
${(await figure(breakdownSpec(cells), 'breakdown')) || '<p>Nothing was measured.</p>'}

<h2>Memory per rank</h2>
${memorySection(cells)}
<h3>Per pipeline stage (model parallelism)</h3>
${stageMemorySection(records)}

<h2>Crossover: where distributed overtakes parallel</h2>
${await crossoverSection(plainCells, models)}

<h2>Advisor: predicted vs measured</h2>
${await advisorSection(validation)}

${codecSection(cells)}
${faultSection(result.records, escapeHtml)}

<h2>Beyond this machine: predictions</h2>
${projectionSection(plainRecords, host.cpus, validation)}

<h2>Tuning: defaults against tuned, on held-out rows</h2>
${tuningSection(tuning)}

<h2>Federated learning: rounds and bytes to a target</h2>
${await federatedSection(result.federated ?? [])}

<h2>The seed paper's claims</h2>
<p class="note">Claims of Peng, <em>Comparison of Distributed and Parallel Machine Learning: Efficiency and Effectiveness in Large-Scale Data Processing</em>, against this run's measurements. Parallel = threads on one machine; distributed = processes or cluster.</p>
<table><tr><th>claim</th><th>section</th><th>verdict</th><th>evidence</th></tr>
${claims.map((c) => `<tr id="claim-${escapeHtml(c.id)}"><td>${escapeHtml(c.text)}</td><td>${escapeHtml(c.section)}</td><td class="verdict-${escapeHtml(c.verdict.replace(/ /g, '-'))}">${escapeHtml(c.verdict)}</td><td>${escapeHtml(c.evidence)}</td></tr>`).join('\n')}
</table>

${
  skipped.length === 0
    ? ''
    : `<h2>Skipped</h2>${table(
        ['model', 'data', 'paradigm', 'workers', 'strategy', 'why'],
        skipped.map((s) => [s.model, s.data, s.paradigm, String(s.workers), s.strategy, s.reason]),
      )}`
}
${
  failed.length === 0
    ? ''
    : `<h2>Failed runs</h2>${table(
        ['model', 'paradigm', 'repeat', 'error'],
        failed.map((r) => [r.model, cellLabel(r), String(r.repeat + 1), r.error ?? '']),
      )}`
}

<h2>How this was measured</h2>
<ul class="note">
<li>Wall seconds: the <code>fit</code> call (worker start-up included, on warm pools: with <code>warmup</code>, each cell's unmeasured first fit started its threads or processes and compiled its code; data loading and scoring excluded). CPU seconds: <code>process.cpuUsage()</code> over the fit (worker threads included, child processes not).</li>
<li>Peak RSS: the process's VmHWM (<code>/proc/self/status</code>) after the fit — its peak so far, so it never decreases within a session.</li>
<li>Bytes and messages: the communicators' own counters, summed over ranks. Training data that the processes paradigm ships to its children before training is stored apart (<code>setup_bytes</code>) and not counted as bytes on the wire. Scores: on a held-out ${typeof session.matrix.testFraction === 'number' ? (session.matrix.testFraction * 100).toFixed(0) : escapeHtml(session.matrix.testFraction)}% of each data set (split seed ${escapeHtml(session.matrix.seed)}).</li>
<li>Repeats are interleaved (repeat 1 of every cell, then repeat 2, …)${session.matrix.warmup ? ', after one unmeasured warm-up fit per cell' : ''}.</li>
</ul>
<details><summary>Matrix</summary><pre>${escapeHtml(JSON.stringify(session.matrix, null, 2))}</pre></details>
</body></html>
`;
}
