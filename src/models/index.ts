/**
 * The models and their registration. Adding a model: its own file, plus one `registerModel` line
 * in `./catalog.ts`.
 */
import './catalog.js';

export * from './estimator.js';
export * from './context.js';
export * from './launcher.js';
export * from './registry.js';
export * from './persist.js';
export * from './metrics.js';
export * from './evaluate.js';
export * from './linear-regression.js';
export * from './logistic-regression.js';
export * from './linear-svm.js';
export * from './lbfgs.js';
export * from './kmeans.js';
export * from './pca.js';
export * from './neural-options.js';
export * from './neural-classifier.js';
export * from './mlp.js';
export * from './cnn.js';
export * from './rnn.js';
