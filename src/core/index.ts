// The numeric core's public face. Importing it registers the reference kernel backend.
import { registerKernels } from './kernels.js';
import { tsKernels } from './kernels-ts.js';

registerKernels(tsKernels);

export * from './errors.js';
export * from './rng.js';
export * from './storage.js';
export * from './kernels.js';
export * from './linalg.js';
