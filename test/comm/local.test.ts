// The local communicator (the sequential paradigm's world of one) passes the conformance suite.
import { communicatorSuite } from './communicator-suite.js';
import { localWorld } from './worlds.js';

communicatorSuite('local', localWorld, { sizes: [1], lengths: [0, 1, 9, 5000] });
