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
