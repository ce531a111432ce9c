// One DQN run on CartPole, printing progress every 10,000 env steps and the final metrics:
//   node scripts/rl/dqn-cartpole.js '{"steps":100000,"seed":1}' ['{"paradigm":"threads","workers":2}'] [--quiet]
// (build first: npx tsc -p tsconfig.json). Options are DQN's (camelCase), over the defaults. The last
// line is JSON: the metrics, fitSeconds (the whole fit call, worker start-up included) and
// secondsToTarget (from the fit call's start to the progress event at stepsToTarget; null if never).
import { performance } from 'node:perf_hooks';
import { DQN } from '../../dist/src/index.js';

const params = JSON.parse(process.argv[2] ?? '{}');
const fitOptions = JSON.parse(process.argv[3] ?? '{}');
const quiet = process.argv.includes('--quiet');
const started = performance.now();
let next = 10_000;
/** [env steps, ms since the fit call] of every progress event. */
const seen = [];
const agent = await new DQN({ env: 'cartpole', ...params }).fit({
  ...fitOptions,
  onProgress: (event) => {
    if (event.envSteps === undefined) return;
    seen.push([event.envSteps, performance.now() - started]);
    if (quiet || event.envSteps < next) return;
    next += 10_000;
    console.log(
      `${event.envSteps} steps: mean return ${event.meanReturn?.toFixed(1)} over the last 100 episodes, ${(event.elapsedMs / 1000).toFixed(1)} s`,
    );
  },
});
const seconds = (performance.now() - started) / 1000;
const metrics = agent.metrics();
const atTarget = metrics.stepsToTarget === undefined ? undefined : seen.find(([steps]) => steps >= metrics.stepsToTarget);
console.log(
  JSON.stringify({
    params,
    fitOptions,
    metrics,
    updates: agent.state.training.updates,
    fitSeconds: Number(seconds.toFixed(2)),
    secondsToTarget: atTarget === undefined ? null : Number((atTarget[1] / 1000).toFixed(2)),
  }),
);
process.exit(0);
