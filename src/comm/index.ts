export * from './communicator.js';
export * from './local.js';
