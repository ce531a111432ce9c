/**
 * The models and their registration. Adding a model: its own file, plus one `registerModel` line
 * in `./catalog.ts`.
 */
import './catalog.js';
import './rl/catalog.js';

export * from './estimator.js';
export * from './context.js';
export * from './paradigm.js';
export * from './registry.js';
export * from './persist.js';
export * from './metrics.js';
export * from './evaluate.js';
export * from './linear/linear-regression.js';
export * from './linear/logistic-regression.js';
export * from './linear/linear-svm.js';
export * from './solvers/lbfgs.js';
export * from './kmeans/kmeans.js';
export * from './pca/pca.js';
export * from './neural/options.js';
export * from './neural/classifier.js';
export * from './neural/mlp.js';
export * from './neural/cnn.js';
export * from './neural/rnn.js';
export { ModelFormatError } from './state-schema.js';
export type { OptionDoc, OptionSchema, OptionSpec } from './option-schema.js';
export * from './rl/agent.js';
export * from './rl/schedule.js';
export * from './rl/q-learning.js';
export * from './rl/q-network.js';
export * from './rl/dqn.js';
