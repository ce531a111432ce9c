/**
 * Federated learning's model-agnostic parts: the aggregators and their registry, the client's
 * training seam (a GradientStrategy), client partitions, the server's seeded choices, Byzantine
 * clients, update transforms and the server's step. The runtime (runtime/federated*.ts) runs them.
 */
export type { Aggregator, ClientUpdate } from './aggregator.js';
export * from './aggregators.js';
export * from './byzantine.js';
export * from './client-strategy.js';
export * from './partition.js';
export * from './sampling.js';
export * from './server.js';
export * from './settings.js';
export * from './transforms.js';
