/**
 * Registers a launcher per paradigm with the models' registry (models/paradigm.ts). Its own module,
 * apart from the runtime's index (which also exports the entries that start ranks), so that no rank
 * entry that needs the launchers makes an import cycle.
 */
import { registerLauncher } from '../models/paradigm.js';
import { launchSequential } from './sequential.js';
import { launchThreads } from './threads.js';
import { launchProcesses } from './processes.js';
import { launchCluster } from './cluster.js';
import { launchFederated } from './federated.js';

registerLauncher('sequential', launchSequential);
registerLauncher('threads', launchThreads);
registerLauncher('processes', launchProcesses);
registerLauncher('cluster', launchCluster);
registerLauncher('federated', launchFederated);
