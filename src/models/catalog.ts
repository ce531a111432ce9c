/**
 * Every model, registered by name. One line per model; the name is the CLI's model argument.
 */
import { registerModel } from './registry.js';

void registerModel; // models register below
