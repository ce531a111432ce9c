// Reinforcement-learning environments (Gym-like, seeded), vectorised environments and replay.
export * from './env.js';
export * from './frozen-lake.js';
export * from './cliff-walking.js';
export * from './cart-pole.js';
export * from './registry.js';
export * from './vector.js';
export * from './replay.js';
