// shardlearn's neural-network engine: tensors, layers (each op beside its derivative), losses,
// optimizers, and one flat parameter store per network.
export * from './tensor.js';
export * from './parameters.js';
export * from './layer.js';
export * from './dense.js';
export * from './conv2d.js';
export * from './pool.js';
export * from './activations.js';
export * from './dropout.js';
export * from './recurrent.js';
export * from './embedding.js';
export * from './losses.js';
export * from './network.js';
export * from './optimizers.js';
