/**
 * shardlearn's library entry. Importing it registers the kernel backends, models, strategies and
 * the paradigm launchers.
 *
 * @example
 * import { KMeans, loadData } from 'shardlearn';
 * const { train } = await loadData('synthetic:blobs?rows=10000&cols=2&centers=3&seed=1');
 * const model = await new KMeans({ k: 3 }).fit(train, { paradigm: 'threads', workers: 2 });
 */
export * from './core/index.js';
export * from './data/index.js';
export * from './models/index.js';
export * from './runtime/index.js';
export * from './compare/index.js';
export * as nn from './nn/index.js';
export { strategyNames, checkStrategy } from './strategies/index.js';
export { createCodec, registerCodec, codecUsages } from './comm/codecs/index.js';
export type { Codec, CodecState, CodecLayout, CodecFactory } from './comm/codecs/index.js';
export type { CompressionOptions } from './strategies/index.js';
