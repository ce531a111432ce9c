/**
 * The runtime: the one place that knows the paradigms. Importing it registers a launcher per
 * available paradigm with the models' launcher registry.
 */
import { registerLauncher } from '../models/launcher.js';
import { launchSequential } from './sequential.js';

registerLauncher('sequential', launchSequential);

export { launchSequential };
