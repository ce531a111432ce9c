/**
 * The reinforcement-learning agents, registered by name (the CLI's model argument). They train on
 * an environment (`--env`), not on data.
 */
import { registerModel } from '../registry.js';
import { DQN, DQN_OPTIONS, DQN_STATE } from './dqn.js';
import { QLearning, Q_LEARNING_OPTIONS, Q_LEARNING_STATE } from './q-learning.js';

registerModel({
  name: 'q-learning',
  kind: 'agent',
  summary: 'tabular Q-learning (ε-greedy) on FrozenLake/CliffWalking: actors average tables through all-reduce, or share one (hogwild)',
  options: Q_LEARNING_OPTIONS,
  state: Q_LEARNING_STATE,
  create: (params) => new QLearning(params),
});
registerModel({
  name: 'dqn',
  kind: 'agent',
  summary:
    'Deep Q-Network (Double DQN, Huber, Adam, replay, target network) on CartPole and friends: actors stream transitions to a rank-0 learner that broadcasts weights',
  options: DQN_OPTIONS,
  state: DQN_STATE,
  create: (params) => new DQN(params),
});
