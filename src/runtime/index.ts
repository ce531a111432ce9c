/**
 * The runtime: the one place that knows the paradigms. Importing it registers a launcher per
 * available paradigm with the models' launcher registry.
 */
import './launchers.js';

export { launchSequential } from './sequential.js';
export { launchThreads } from './threads.js';
export { configureThreadPool, prewarmThreads, shutdownThreadPool } from './thread-pool.js';
export { launchProcesses } from './processes.js';
export { prewarmProcesses, shutdownProcessPool } from './process-pool.js';
export { launchCluster } from './cluster.js';
export { rendezvousFromEnv, inCluster, staticRendezvous } from './rendezvous.js';
export { EtcdRendezvous } from './rendezvous-etcd.js';
export type { EtcdRendezvousOptions } from './rendezvous-etcd.js';
export type { RendezvousBackend, World, WorldMember } from '../comm/rendezvous-backend.js';
export { fitInNamespaces } from './netns-cluster.js';
export { checkCompressionSpec, compressionProblem } from './compression.js';
export type { NamespaceFitRequest, NamespaceFitResult } from './netns-cluster.js';
export { NamespaceNetwork, namespacesUnavailable, listNamespaces } from './netns.js';
export type { NamespaceNetworkOptions, NamespaceHost } from './netns.js';
export { strategyNames } from '../strategies/index.js';
