/** Secure aggregation (Bonawitz et al. 2017): the client and server state machines, their wire format and a simulation driver. */
export { SecAggClient } from './client.js';
export { SecAggServer, type SecAggOutcome } from './server.js';
export { SecAggError, type SecAggPhase } from './errors.js';
export { runSecAggRound, type DropPoint, type SimulatedRound, type SimulatedOutcome } from './simulate.js';
export { majorityThreshold, type SecAggParameters } from './parameters.js';
export { DEFAULT_FIXED_POINT, fixedPointRange, quantize, dequantize, type FixedPoint } from './fixed-point.js';
export { bytesPerClient, decode, encode, type Message } from './messages.js';
export { seededRandomSource, systemRandom, type RandomSource } from './crypto.js';
export { fromCommMessage, SECAGG_TAG, toCommMessage } from './comm-message.js';
