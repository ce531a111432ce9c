// One DQN run on CartPole, printing progress every 10,000 env steps and the final metrics:
//   node scripts/rl/dqn-cartpole.js '{"steps":100000,"seed":1}' ['{"paradigm":"threads","workers":2}']
// (build first: npx tsc -p tsconfig.json). Options are DQN's (camelCase), over the defaults.
import { performance } from 'node:perf_hooks';
import { DQN } from '../../dist/src/index.js';

const params = JSON.parse(process.argv[2] ?? '{}');
const fitOptions = JSON.parse(process.argv[3] ?? '{}');
const started = performance.now();
let next = 10_000;
const agent = await new DQN({ env: 'cartpole', ...params }).fit({
  ...fitOptions,
  onProgress: (event) => {
    if (event.envSteps === undefined || event.envSteps < next) return;
    next += 10_000;
    console.log(
      `${event.envSteps} steps: mean return ${event.meanReturn?.toFixed(1)} over the last 100 episodes, ${(event.elapsedMs / 1000).toFixed(1)} s`,
    );
  },
});
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ params, fitOptions, metrics: agent.metrics(), fitSeconds: Number(seconds.toFixed(1)) }));
process.exit(0);
