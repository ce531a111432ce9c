/**
 * The runtime: the one place that knows the paradigms. Importing it registers a launcher per
 * available paradigm with the models' launcher registry.
 */
import { registerLauncher } from '../models/launcher.js';
import { launchSequential } from './sequential.js';
import { launchThreads } from './threads.js';

registerLauncher('sequential', launchSequential);
registerLauncher('threads', launchThreads);

export { launchSequential };
export { launchThreads };
export { strategyNames } from '../strategies/index.js';
