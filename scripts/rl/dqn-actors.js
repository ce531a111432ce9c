// Parallel DQN actors against one, on CartPole: each configuration a fresh process
// (scripts/rl/dqn-cartpole.js), the configurations interleaved within each repeat so load drift
// spreads over all of them; prints per configuration the median env steps/s, seconds to the target
// (475), learner utilisation, evalReturn and the load average, then the ratios of each 2-actor
// configuration over its 1-actor one. Build first (npx tsc -p tsconfig.json).
//   node scripts/rl/dqn-actors.js [repeats=3] [seed=0] [steps=100000]
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { URL, fileURLToPath } from 'node:url';

const repeats = Number(process.argv[2] ?? 3);
const seed = Number(process.argv[3] ?? 0);
const steps = Number(process.argv[4] ?? 100_000);
const script = fileURLToPath(new URL('./dqn-cartpole.js', import.meta.url));
// The 2-actor Ape-X pace (scaleTrainEvery) takes the gradient steps one actor would: twice the env
// steps give the learner the same work as the 1-actor run.
const apex = { scaleTrainEvery: true, syncEvery: 10 };
const CONFIGS = [
  { name: 'sync ×1 (sequential)', params: { steps }, fit: {} },
  { name: 'sync threads ×2, replay ratio kept', params: { steps }, fit: { paradigm: 'threads', workers: 2 }, versus: 0 },
  { name: 'sync threads ×2, Ape-X pace', params: { ...apex, steps: 2 * steps }, fit: { paradigm: 'threads', workers: 2 }, versus: 0 },
  { name: 'sync processes ×2, Ape-X pace', params: { ...apex, steps: 2 * steps }, fit: { paradigm: 'processes', workers: 2 }, versus: 0 },
  { name: 'async threads, 1 actor', params: { actors: 'async', syncEvery: 10, steps }, fit: { paradigm: 'threads', workers: 2 } },
  {
    name: 'async threads, 2 actors, Ape-X pace',
    params: { ...apex, actors: 'async', steps: 2 * steps },
    fit: { paradigm: 'threads', workers: 3 },
    versus: 4,
  },
  { name: 'async processes, 1 actor', params: { actors: 'async', syncEvery: 10, steps }, fit: { paradigm: 'processes', workers: 2 } },
  {
    name: 'async processes, 2 actors, Ape-X pace',
    params: { ...apex, actors: 'async', steps: 2 * steps },
    fit: { paradigm: 'processes', workers: 3 },
    versus: 6,
  },
];
const runs = CONFIGS.map(() => []);
for (let r = 0; r < repeats; r++) {
  CONFIGS.forEach((config, i) => {
    const load = loadavg()[0];
    const out = execFileSync(
      process.execPath,
      [script, JSON.stringify({ seed, ...config.params }), JSON.stringify(config.fit), '--quiet'],
      {
        encoding: 'utf8',
      },
    );
    const result = JSON.parse(out.trim().split('\n').pop());
    const row = {
      rate: result.metrics.envStepsPerSecond,
      toTarget: result.secondsToTarget ?? Infinity,
      utilisation: result.metrics.learnerUtilisation,
      evalReturn: result.metrics.evalReturn,
      fit: result.fitSeconds,
      load,
    };
    runs[i].push(row);
    console.error(`#${r + 1} ${config.name}: ${JSON.stringify(row)}`);
  });
}
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const summary = CONFIGS.map((config, i) => {
  const pick = (key) => median(runs[i].map((row) => row[key]));
  return {
    config,
    rate: pick('rate'),
    toTarget: pick('toTarget'),
    utilisation: pick('utilisation'),
    evalReturn: pick('evalReturn'),
    fit: pick('fit'),
    load: runs[i].map((row) => row.load.toFixed(1)).join('/'),
  };
});
console.log('| configuration | env steps/s | s to 475 | learner utilisation | evalReturn | fit s | load (1 min) |');
console.log('|---|---|---|---|---|---|---|');
for (const s of summary)
  console.log(
    `| ${s.config.name} | ${Math.round(s.rate)} | ${s.toTarget === Infinity ? '—' : s.toTarget.toFixed(1)} | ${s.utilisation.toFixed(2)} | ${s.evalReturn.toFixed(0)} | ${s.fit.toFixed(1)} | ${s.load} |`,
  );
console.log('\n| 2 actors vs 1 | env steps/s ratio | time-to-target ratio (< 1: faster) |');
console.log('|---|---|---|');
for (const s of summary.filter((x) => x.config.versus !== undefined)) {
  const base = summary[s.config.versus];
  const time = Number.isFinite(s.toTarget) && Number.isFinite(base.toTarget) ? (s.toTarget / base.toTarget).toFixed(2) : '—';
  console.log(`| ${s.config.name} / ${base.config.name} | ${(s.rate / base.rate).toFixed(2)} | ${time} |`);
}
