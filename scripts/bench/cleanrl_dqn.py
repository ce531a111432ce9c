#!/usr/bin/python3
"""CleanRL's dqn.py (classic-control DQN) re-implemented in plain PyTorch, for bench/dqn-vs-pytorch.ts.

Same algorithm and settings as CleanRL's cleanrl/dqn.py: Q-network 4-120-84-2 (ReLU), Adam lr 2.5e-4,
replay buffer of 10,000 transitions (uniform sampling), batch 128, gamma 0.99, learning_starts 10,000,
one gradient step every 10 env steps (after learning_starts), hard target copy every 500 env steps
(tau 1.0), epsilon linear from 1 to 0.05 over exploration_fraction 0.5 of total_timesteps, MSE TD
loss on r + gamma * max_a Q_target(s', a) * (1 - terminated) (a truncated episode is not terminal,
and its transition keeps the real last observation, as CleanRL's final_observation handling does).
One environment, torch.set_num_threads(1), seeded (random, numpy, torch).

No gym: CartPole-v1 is implemented here with the same equations as shardlearn's src/rl/cart-pole.ts
(gravity 9.8, cart mass 1.0, pole mass 0.1, half-length 0.5, force 10, tau 0.02, explicit Euler in
Gymnasium's order, |x| > 2.4 or |theta| > 12 degrees terminates, truncated after 500 steps, start
state uniform in +-0.05; float64 state, float32 observations to the network).

Stops once the mean return of the last 100 training episodes first reaches --target (stepsToTarget:
the env step at which it did, the same definition as shardlearn's DQN) or after --total-timesteps,
then scores 100 greedy episodes. Prints one JSON line: {"seed", "stepsToTarget", "secondsToTarget",
"totalSeconds", "envSteps", "evalReturn", "torch"}. Times exclude the imports and the set-up.
Run with Debian's python3-torch: /usr/bin/python3 scripts/bench/cleanrl_dqn.py --seed 0.
"""
import argparse
import json
import math
import random
import time
from collections import deque

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

GRAVITY, MASS_CART, MASS_POLE, LENGTH, FORCE_MAG, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
THETA_THRESHOLD, X_THRESHOLD, MAX_STEPS = 12 * 2 * math.pi / 360, 2.4, 500


class CartPole:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.state = [0.0, 0.0, 0.0, 0.0]
        self.steps = 0

    def reset(self):
        self.state = [float(v) for v in self.rng.uniform(-0.05, 0.05, 4)]
        self.steps = 0
        return np.array(self.state, dtype=np.float32)

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = FORCE_MAG if action == 1 else -FORCE_MAG
        total_mass = MASS_POLE + MASS_CART
        pole_mass_length = MASS_POLE * LENGTH
        cos_t, sin_t = math.cos(theta), math.sin(theta)
        temp = (force + pole_mass_length * theta_dot * theta_dot * sin_t) / total_mass
        theta_acc = (GRAVITY * sin_t - cos_t * temp) / (LENGTH * (4.0 / 3.0 - MASS_POLE * cos_t * cos_t / total_mass))
        x_acc = temp - pole_mass_length * theta_acc * cos_t / total_mass
        x, x_dot, theta, theta_dot = x + TAU * x_dot, x_dot + TAU * x_acc, theta + TAU * theta_dot, theta_dot + TAU * theta_acc
        self.state = [x, x_dot, theta, theta_dot]
        self.steps += 1
        terminated = x < -X_THRESHOLD or x > X_THRESHOLD or theta < -THETA_THRESHOLD or theta > THETA_THRESHOLD
        truncated = not terminated and self.steps >= MAX_STEPS
        return np.array(self.state, dtype=np.float32), 1.0, terminated, truncated


class QNetwork(nn.Module):
    def __init__(self, observations, actions):
        super().__init__()
        self.network = nn.Sequential(nn.Linear(observations, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, actions))

    def forward(self, x):
        return self.network(x)


def linear_schedule(start_e, end_e, duration, t):
    slope = (end_e - start_e) / duration
    return max(slope * t + start_e, end_e)


class ReplayBuffer:
    def __init__(self, size, observations):
        self.obs = np.zeros((size, observations), dtype=np.float32)
        self.next_obs = np.zeros((size, observations), dtype=np.float32)
        self.actions = np.zeros(size, dtype=np.int64)
        self.rewards = np.zeros(size, dtype=np.float32)
        self.dones = np.zeros(size, dtype=np.float32)
        self.size, self.pos, self.full = size, 0, False

    def add(self, obs, next_obs, action, reward, done):
        self.obs[self.pos], self.next_obs[self.pos] = obs, next_obs
        self.actions[self.pos], self.rewards[self.pos], self.dones[self.pos] = action, reward, done
        self.pos = (self.pos + 1) % self.size
        self.full = self.full or self.pos == 0

    def sample(self, batch):
        idx = np.random.randint(0, self.size if self.full else self.pos, size=batch)
        return (torch.from_numpy(self.obs[idx]), torch.from_numpy(self.actions[idx]), torch.from_numpy(self.rewards[idx]),
                torch.from_numpy(self.next_obs[idx]), torch.from_numpy(self.dones[idx]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--total-timesteps", type=int, default=500_000)
    ap.add_argument("--learning-rate", type=float, default=2.5e-4)
    ap.add_argument("--buffer-size", type=int, default=10_000)
    ap.add_argument("--gamma", type=float, default=0.99)
    ap.add_argument("--tau", type=float, default=1.0)
    ap.add_argument("--target-network-frequency", type=int, default=500)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--start-e", type=float, default=1.0)
    ap.add_argument("--end-e", type=float, default=0.05)
    ap.add_argument("--exploration-fraction", type=float, default=0.5)
    ap.add_argument("--learning-starts", type=int, default=10_000)
    ap.add_argument("--train-frequency", type=int, default=10)
    ap.add_argument("--target", type=float, default=475.0)
    ap.add_argument("--eval-episodes", type=int, default=100)
    ap.add_argument("--no-stop", action="store_true", help="train all total-timesteps even after the target")
    args = ap.parse_args()

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.backends.cudnn.deterministic = True
    torch.set_num_threads(1)

    env = CartPole(args.seed)
    q_network = QNetwork(4, 2)
    optimizer = torch.optim.Adam(q_network.parameters(), lr=args.learning_rate)
    target_network = QNetwork(4, 2)
    target_network.load_state_dict(q_network.state_dict())
    rb = ReplayBuffer(args.buffer_size, 4)

    returns = deque(maxlen=100)
    episode_return = 0.0
    steps_to_target = None
    seconds_to_target = None
    started = time.perf_counter()
    obs = env.reset()
    global_step = 0
    for global_step in range(args.total_timesteps):
        epsilon = linear_schedule(args.start_e, args.end_e, args.exploration_fraction * args.total_timesteps, global_step)
        if random.random() < epsilon:
            action = random.randrange(2)
        else:
            with torch.no_grad():
                action = int(torch.argmax(q_network(torch.from_numpy(obs)[None]), dim=1)[0])
        next_obs, reward, terminated, truncated = env.step(action)
        episode_return += reward
        rb.add(obs, next_obs, action, reward, float(terminated))
        if terminated or truncated:
            returns.append(episode_return)
            episode_return = 0.0
            obs = env.reset()
            if steps_to_target is None and len(returns) >= 100 and sum(returns) / len(returns) >= args.target:
                steps_to_target = global_step + 1
                seconds_to_target = time.perf_counter() - started
                if not args.no_stop:
                    break
        else:
            obs = next_obs

        if global_step > args.learning_starts:
            if global_step % args.train_frequency == 0:
                data_obs, data_actions, data_rewards, data_next_obs, data_dones = rb.sample(args.batch_size)
                with torch.no_grad():
                    target_max, _ = target_network(data_next_obs).max(dim=1)
                    td_target = data_rewards + args.gamma * target_max * (1 - data_dones)
                old_val = q_network(data_obs).gather(1, data_actions[:, None]).squeeze(1)
                loss = F.mse_loss(td_target, old_val)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            if global_step % args.target_network_frequency == 0:
                for target_param, q_param in zip(target_network.parameters(), q_network.parameters()):
                    target_param.data.copy_(args.tau * q_param.data + (1.0 - args.tau) * target_param.data)
    total_seconds = time.perf_counter() - started
    env_steps = steps_to_target if steps_to_target is not None and not args.no_stop else args.total_timesteps

    eval_env = CartPole(args.seed + 10_000)
    total = 0.0
    with torch.no_grad():
        for _ in range(args.eval_episodes):
            o, done = eval_env.reset(), False
            while not done:
                o, r, terminated, truncated = eval_env.step(int(torch.argmax(q_network(torch.from_numpy(o)[None]), dim=1)[0]))
                total += r
                done = terminated or truncated
    print(json.dumps({
        "seed": args.seed,
        "stepsToTarget": steps_to_target,
        "secondsToTarget": None if seconds_to_target is None else round(seconds_to_target, 2),
        "totalSeconds": round(total_seconds, 2),
        "envSteps": env_steps,
        "evalReturn": total / args.eval_episodes,
        "torch": torch.__version__,
    }))


if __name__ == "__main__":
    main()
