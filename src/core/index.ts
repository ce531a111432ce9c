// The numeric core's public face. Importing it registers the kernel backends: the WASM SIMD one
// first when it loads (the first registered is the default), then the TS reference.
import { registerKernels } from './kernels.js';
import { tsKernels } from './kernels-ts.js';
import { loadWasmKernels } from './kernels-wasm.js';

const wasmKernels = loadWasmKernels(); // null, with one process warning, when it cannot load
if (wasmKernels !== null) registerKernels(wasmKernels);
registerKernels(tsKernels);

export * from './errors.js';
export * from './rng.js';
export * from './storage.js';
export * from './kernels.js';
export { attachWasmKernels, createWasmKernels, loadWasmKernels, placeSharedArraysInWasmMemory, shareWasmKernels } from './kernels-wasm.js';
export type { SharedWasmKernels, WasmKernels, WasmKernelsOptions, WasmSimd } from './kernels-wasm.js';
export * from './linalg.js';
