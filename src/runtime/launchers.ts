/**
 * Registers a launcher per paradigm with the models' registry (models/paradigm.ts). Its own module,
 * apart from the runtime's index (which also exports the entries that start ranks), so that no rank
 * entry that needs the launchers makes an import cycle.
 */
import type { Launcher, Paradigm } from '../models/paradigm.js';
import { registerLauncher } from '../models/paradigm.js';
import { refuseInjection } from './fault-injection.js';
import { launchSequential } from './sequential.js';
import { launchThreads } from './threads.js';
import { launchProcesses } from './processes.js';
import { launchCluster } from './cluster.js';
import { launchFederated } from './federated.js';

/** A launcher whose ranks are not processes it started: it refuses FitOptions.inject (fault-injection.ts). */
const withoutInjection =
  (paradigm: Paradigm, launch: Launcher): Launcher =>
  (request) => {
    refuseInjection(request.options.inject, paradigm);
    return launch(request);
  };

registerLauncher('sequential', withoutInjection('sequential', launchSequential));
registerLauncher('threads', withoutInjection('threads', launchThreads));
registerLauncher('processes', launchProcesses);
registerLauncher('cluster', withoutInjection('cluster', launchCluster));
registerLauncher('federated', withoutInjection('federated', launchFederated));
