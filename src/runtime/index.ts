/**
 * The runtime: the one place that knows the paradigms. Importing it registers a launcher per
 * available paradigm with the models' launcher registry.
 */
import { registerLauncher } from '../models/launcher.js';
import { launchSequential } from './sequential.js';
import { launchThreads } from './threads.js';
import { launchProcesses } from './processes.js';
import { launchCluster } from './cluster.js';

registerLauncher('sequential', launchSequential);
registerLauncher('threads', launchThreads);
registerLauncher('processes', launchProcesses);
registerLauncher('cluster', launchCluster);

export { launchSequential };
export { launchThreads };
export { shutdownThreadPool } from './thread-pool.js';
export { launchProcesses, launchCluster };
export { rendezvousFromEnv, inCluster } from './rendezvous.js';
export { fitInNamespaces } from './netns-cluster.js';
export type { NamespaceFitRequest, NamespaceFitResult } from './netns-cluster.js';
export { NamespaceNetwork, namespacesUnavailable, listNamespaces } from './netns.js';
export type { NamespaceNetworkOptions, NamespaceHost } from './netns.js';
export { strategyNames } from '../strategies/index.js';
