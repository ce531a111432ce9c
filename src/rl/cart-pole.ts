/**
 * CartPole-v1 (Barto, Sutton & Anderson 1983, as Gymnasium implements it): push a cart left
 * (action 0) or right (1) with force 10 N to keep a pole upright. State [x, ẋ, θ, θ̇]; gravity 9.8,
 * cart mass 1.0, pole mass 0.1, half-length 0.5, τ = 0.02 s, explicit Euler. Reward 1 per step
 * (the failing step included); terminated when |x| > 2.4 or |θ| > 12°; truncated after 500 steps.
 * The start state is uniform in ±0.05 per variable. Computed in float64 (Gymnasium keeps the state
 * as Python floats and returns it as float32).
 *
 * The equations of motion (Florian 2007, "Correct equations for the dynamics of the cart-pole system"):
 *   temp  = (F + m_p·l·θ̇²·sin θ) / (m_c + m_p)
 *   θ̈    = (g·sin θ − cos θ·temp) / (l·(4/3 − m_p·cos²θ / (m_c + m_p)))
 *   ẍ    = temp − m_p·l·θ̈·cos θ / (m_c + m_p)
 */
import { Rng } from '../core/rng.js';
import type { BoxSpace, DiscreteSpace, Environment, StepResult } from './env.js';
import { checkAction } from './env.js';

export const CART_POLE = {
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  /** Half the pole's length. */
  length: 0.5,
  forceMag: 10.0,
  tau: 0.02,
  thetaThreshold: (12 * 2 * Math.PI) / 360,
  xThreshold: 2.4,
} as const;

export interface CartPoleOptions {
  maxEpisodeSteps?: number;
}

export class CartPole implements Environment {
  readonly name = 'cartpole';
  readonly observationSpace: BoxSpace;
  readonly actionSpace: DiscreteSpace = { kind: 'discrete', n: 2 };
  readonly maxEpisodeSteps: number;
  /** [x, ẋ, θ, θ̇]. */
  readonly state = new Float64Array(4);
  private rng = new Rng(0);
  private steps = 0;
  private done = false;

  constructor(options: CartPoleOptions = {}) {
    this.maxEpisodeSteps = options.maxEpisodeSteps ?? 500;
    const high = Float64Array.of(CART_POLE.xThreshold * 2, Number.MAX_VALUE, CART_POLE.thetaThreshold * 2, Number.MAX_VALUE);
    this.observationSpace = { kind: 'box', shape: [4], low: high.map((v) => -v), high };
  }

  reset(seed?: number): Float64Array {
    if (seed !== undefined) this.rng = new Rng(seed);
    for (let i = 0; i < 4; i++) this.state[i] = -0.05 + 0.1 * this.rng.uniform();
    this.steps = 0;
    this.done = false;
    return Float64Array.from(this.state);
  }

  /** Start from a given state (tests, and replaying a trajectory). */
  setState(state: ArrayLike<number>): void {
    this.state.set(state);
    this.steps = 0;
    this.done = false;
  }

  step(action: number): StepResult {
    checkAction(this.name, action, 2);
    if (this.done) throw new RangeError('cartpole: step() after the episode ended; call reset() first');
    const { gravity, massCart, massPole, length, forceMag, tau } = CART_POLE;
    const totalMass = massPole + massCart;
    const poleMassLength = massPole * length;
    const [x, xDot, theta, thetaDot] = this.state as unknown as [number, number, number, number];
    const force = action === 1 ? forceMag : -forceMag;
    const cosTheta = Math.cos(theta);
    const sinTheta = Math.sin(theta);
    const temp = (force + poleMassLength * thetaDot * thetaDot * sinTheta) / totalMass;
    const thetaAcc = (gravity * sinTheta - cosTheta * temp) / (length * (4 / 3 - (massPole * cosTheta * cosTheta) / totalMass));
    const xAcc = temp - (poleMassLength * thetaAcc * cosTheta) / totalMass;
    // Euler, in Gymnasium's order: positions from the old velocities.
    this.state[0] = x + tau * xDot;
    this.state[1] = xDot + tau * xAcc;
    this.state[2] = theta + tau * thetaDot;
    this.state[3] = thetaDot + tau * thetaAcc;
    this.steps++;
    const terminated =
      this.state[0]! < -CART_POLE.xThreshold ||
      this.state[0]! > CART_POLE.xThreshold ||
      this.state[2]! < -CART_POLE.thetaThreshold ||
      this.state[2]! > CART_POLE.thetaThreshold;
    const truncated = !terminated && this.steps >= this.maxEpisodeSteps;
    this.done = terminated || truncated;
    return { observation: Float64Array.from(this.state), reward: 1, terminated, truncated };
  }
}
