/**
 * Recurrent layers — simple RNN (tanh), LSTM and GRU — over input [batch, steps, features], with
 * backpropagation through time. Output: the last hidden state [batch, units], or every step's
 * [batch, steps, units] with `returnSequences`.
 *
 * Equations (PyTorch's, gate order as in its weight layout):
 *   rnn:  h = tanh(x·Wxᵀ + h₋·Whᵀ + b)
 *   lstm: [i f g o] = x·Wxᵀ + h₋·Whᵀ + b;  c = σ(f)⊙c₋ + σ(i)⊙tanh(g);  h = σ(o)⊙tanh(c)
 *   gru:  [r z n]ₓ = x·Wxᵀ + b, [r z n]ₕ = h₋·Whᵀ + bₕ;  r = σ(rₓ + rₕ), z = σ(zₓ + zₕ),
 *         n = tanh(nₓ + r⊙nₕ);  h = (1 − z)⊙n + z⊙h₋
 *
 * Internally time-major ([steps, batch, ·]) so each step's rows are contiguous: the input
 * projection of all steps is ONE gemm (steps·batch rows), each step adds one gemm h₋·Whᵀ, and
 * backward mirrors it — per step ∂h₋ = ∂a·Wh and ∂Wh += ∂aᵀ·h₋, then one gemm each for ∂Wx, ∂x.
 *
 * @example
 * new Recurrent({ cell: 'lstm', units: 128 }) // [28, 28] → [128]
 */
import { kernels } from '../core/kernels.js';
import type { DType, FloatArray } from '../core/storage.js';
import { sigmoid } from './activations.js';
import type { ForwardContext, Layer, LayerSpec } from './layer.js';
import { expectRank } from './layer.js';
import type { FlatParameters, ParameterLayout, ParameterSlot } from './parameters.js';
import type { Tensor } from './tensor.js';
import { reuse } from './tensor.js';

export type CellType = 'rnn' | 'lstm' | 'gru';

const GATES: Record<CellType, number> = { rnn: 1, lstm: 4, gru: 3 };

export interface RecurrentOptions {
  cell: CellType;
  units: number;
  /** Output every step's hidden state (for stacking) instead of the last one. Default false. */
  returnSequences?: boolean;
}

interface Slots {
  wx: ParameterSlot;
  wh: ParameterSlot;
  b: ParameterSlot;
  /** GRU only: the hidden-side bias, which r multiplies along with h₋·Whₙᵀ. */
  bh: ParameterSlot | null;
}

export class Recurrent implements Layer {
  readonly spec: LayerSpec & { type: CellType };
  private steps = 0;
  private features = 0;
  private dtype: DType = 'float32';
  private slots: Slots | null = null;
  private store: FlatParameters | null = null;
  private batch = 0;
  // Time-major buffers, [steps, batch, ·].
  private xs: FloatArray | null = null;
  /** Pre-activations, overwritten in place by the activated gates. */
  private gates: FloatArray | null = null;
  /** GRU: h₋·Whᵀ + bₕ of every step. */
  private hidden: FloatArray | null = null;
  private hs: FloatArray | null = null;
  private cs: FloatArray | null = null;
  private tanhCs: FloatArray | null = null;
  private output: FloatArray | null = null;
  private gatesGradient: FloatArray | null = null;
  private hiddenGradient: FloatArray | null = null;
  private inputGradient: FloatArray | null = null;
  private stepGradient: FloatArray | null = null;
  private timeMajorGradient: FloatArray | null = null;

  constructor(options: RecurrentOptions) {
    this.spec = { type: options.cell, units: options.units, returnSequences: options.returnSequences ?? false };
  }

  build(inputShape: readonly number[], layout: ParameterLayout, dtype: DType): readonly number[] {
    expectRank(this.spec.type, inputShape, 2, '[steps, features]');
    [this.steps, this.features] = inputShape as [number, number];
    this.dtype = dtype;
    const units = this.spec.units;
    const width = GATES[this.spec.type] * units;
    const init = { kind: 'uniform', bound: 1 / Math.sqrt(units) } as const;
    this.slots = {
      wx: layout.declare(`${this.spec.type}.inputWeight`, [width, this.features], init),
      wh: layout.declare(`${this.spec.type}.hiddenWeight`, [width, units], init),
      b: layout.declare(`${this.spec.type}.bias`, [width], init),
      bh: this.spec.type === 'gru' ? layout.declare('gru.hiddenBias', [width], init) : null,
    };
    return this.spec.returnSequences ? [this.steps, units] : [units];
  }

  bind(store: FlatParameters): void {
    this.store = store;
  }

  forward(input: Tensor, _context: ForwardContext): Tensor {
    const { steps: T, features: F, dtype } = this;
    const H = this.spec.units;
    const cell = this.spec.type;
    const G = GATES[cell] * H;
    const B = input.shape[0]!;
    const { wx, wh, b, bh } = this.slots!;
    const values = this.store!.values;
    const k = kernels();
    this.batch = B;
    const xs = (this.xs = reuse(this.xs, dtype, T * B * F));
    for (let n = 0; n < B; n++)
      for (let t = 0; t < T; t++) xs.set(input.data.subarray((n * T + t) * F, (n * T + t + 1) * F), (t * B + n) * F);
    const a = (this.gates = reuse(this.gates, dtype, T * B * G));
    const bias = values.subarray(b.offset, b.offset + G);
    for (let row = 0; row < T * B; row++) a.set(bias, row * G);
    k.gemm(false, true, T * B, G, F, 1, xs, 0, F, values, wx.offset, F, 1, a, 0, G);
    const hs = (this.hs = reuse(this.hs, dtype, T * B * H));
    let cs: FloatArray | null = null;
    let tanhCs: FloatArray | null = null;
    let hp: FloatArray | null = null;
    if (cell === 'lstm') {
      cs = this.cs = reuse(this.cs, dtype, T * B * H);
      tanhCs = this.tanhCs = reuse(this.tanhCs, dtype, T * B * H);
    }
    if (cell === 'gru') {
      hp = this.hidden = reuse(this.hidden, dtype, T * B * G);
      const hiddenBias = values.subarray(bh!.offset, bh!.offset + G);
      for (let row = 0; row < T * B; row++) hp.set(hiddenBias, row * G);
    }

    for (let t = 0; t < T; t++) {
      const at = t * B * G;
      const previous = (t - 1) * B * H;
      if (t > 0) {
        // h₋·Whᵀ: into the pre-activations (rnn, lstm) or kept apart (gru, where r scales its n part).
        if (hp === null) k.gemm(false, true, B, G, H, 1, hs, previous, H, values, wh.offset, H, 1, a, at, G);
        else k.gemm(false, true, B, G, H, 1, hs, previous, H, values, wh.offset, H, 1, hp, at, G);
      }
      for (let n = 0; n < B; n++) {
        const row = at + n * G;
        const out = (t * B + n) * H;
        const before = previous + n * H;
        for (let j = 0; j < H; j++) {
          if (cell === 'rnn') {
            hs[out + j] = Math.tanh(a[row + j]!);
          } else if (cell === 'lstm') {
            const i = sigmoid(a[row + j]!);
            const f = sigmoid(a[row + H + j]!);
            const g = Math.tanh(a[row + 2 * H + j]!);
            const o = sigmoid(a[row + 3 * H + j]!);
            a[row + j] = i;
            a[row + H + j] = f;
            a[row + 2 * H + j] = g;
            a[row + 3 * H + j] = o;
            const c = (t > 0 ? f * cs![before + j]! : 0) + i * g;
            cs![out + j] = c;
            const tc = Math.tanh(c);
            tanhCs![out + j] = tc;
            hs[out + j] = o * tc;
          } else {
            const r = sigmoid(a[row + j]! + hp![row + j]!);
            const z = sigmoid(a[row + H + j]! + hp![row + H + j]!);
            const nGate = Math.tanh(a[row + 2 * H + j]! + r * hp![row + 2 * H + j]!);
            a[row + j] = r;
            a[row + H + j] = z;
            a[row + 2 * H + j] = nGate;
            hs[out + j] = (1 - z) * nGate + (t > 0 ? z * hs[before + j]! : 0);
          }
        }
      }
    }

    if (!this.spec.returnSequences) {
      const y = (this.output = reuse(this.output, dtype, B * H));
      y.set(hs.subarray((T - 1) * B * H, T * B * H));
      return { shape: [B, H], data: y };
    }
    const y = (this.output = reuse(this.output, dtype, B * T * H));
    for (let n = 0; n < B; n++) for (let t = 0; t < T; t++) y.set(hs.subarray((t * B + n) * H, (t * B + n + 1) * H), (n * T + t) * H);
    return { shape: [B, T, H], data: y };
  }

  backward(outputGradient: Tensor, needInputGradient: boolean): Tensor | null {
    const { steps: T, features: F, dtype, batch: B } = this;
    const H = this.spec.units;
    const cell = this.spec.type;
    const G = GATES[cell] * H;
    const { wx, wh, b, bh } = this.slots!;
    const { values, gradients } = this.store!;
    const k = kernels();
    const a = this.gates!;
    const hs = this.hs!;
    const dy = outputGradient.data;
    const da = (this.gatesGradient = reuse(this.gatesGradient, dtype, T * B * G));
    // ∂h and ∂c flowing back from step t+1 into step t (zero past the last step).
    const dhNext = new Float64Array(B * H);
    const dcNext = new Float64Array(cell === 'lstm' ? B * H : 0);
    const dhStep = (this.stepGradient = reuse(this.stepGradient, dtype, B * H));
    const dhp = cell === 'gru' ? (this.hiddenGradient = reuse(this.hiddenGradient, dtype, B * G)) : null;

    for (let t = T - 1; t >= 0; t--) {
      const at = t * B * G;
      const previous = (t - 1) * B * H;
      for (let n = 0; n < B; n++) {
        const row = at + n * G;
        const out = (t * B + n) * H;
        const before = previous + n * H;
        for (let j = 0; j < H; j++) {
          let dh = dhNext[n * H + j]!;
          if (this.spec.returnSequences) dh += dy[(n * T + t) * H + j]!;
          else if (t === T - 1) dh += dy[n * H + j]!;
          if (cell === 'rnn') {
            const h = hs[out + j]!;
            da[row + j] = dh * (1 - h * h);
          } else if (cell === 'lstm') {
            const i = a[row + j]!;
            const f = a[row + H + j]!;
            const g = a[row + 2 * H + j]!;
            const o = a[row + 3 * H + j]!;
            const tc = this.tanhCs![out + j]!;
            const dc = dcNext[n * H + j]! + dh * o * (1 - tc * tc);
            const cPrevious = t > 0 ? this.cs![before + j]! : 0;
            da[row + j] = dc * g * i * (1 - i);
            da[row + H + j] = dc * cPrevious * f * (1 - f);
            da[row + 2 * H + j] = dc * i * (1 - g * g);
            da[row + 3 * H + j] = dh * tc * o * (1 - o);
            dcNext[n * H + j] = dc * f;
          } else {
            const r = a[row + j]!;
            const z = a[row + H + j]!;
            const nGate = a[row + 2 * H + j]!;
            const hPrevious = t > 0 ? hs[before + j]! : 0;
            const dPreN = dh * (1 - z) * (1 - nGate * nGate);
            const dPreR = dPreN * this.hidden![row + 2 * H + j]! * r * (1 - r);
            const dPreZ = dh * (hPrevious - nGate) * z * (1 - z);
            da[row + j] = dPreR;
            da[row + H + j] = dPreZ;
            da[row + 2 * H + j] = dPreN;
            const hr = n * G;
            dhp![hr + j] = dPreR;
            dhp![hr + H + j] = dPreZ;
            dhp![hr + 2 * H + j] = dPreN * r;
            dhNext[n * H + j] = dh * z; // the direct path h₋ → h; the Wh path is added below
          }
        }
      }
      // Gradients through h₋·Whᵀ: the pre-activations' (rnn, lstm) or the hidden part's (gru).
      const dHidden = dhp ?? da;
      const dOffset = dhp === null ? at : 0;
      if (cell === 'gru') {
        for (let n = 0; n < B; n++) for (let j = 0; j < G; j++) gradients[bh!.offset + j]! += dhp![n * G + j]!;
      }
      if (t > 0) {
        k.gemm(true, false, G, H, B, 1, dHidden, dOffset, G, hs, previous, H, 1, gradients, wh.offset, H);
        k.gemm(false, false, B, H, G, 1, dHidden, dOffset, G, values, wh.offset, H, 0, dhStep, 0, H);
        if (cell === 'gru') for (let i = 0; i < B * H; i++) dhNext[i]! += dhStep[i]!;
        else for (let i = 0; i < B * H; i++) dhNext[i] = dhStep[i]!;
      }
    }

    k.gemm(true, false, G, F, T * B, 1, da, 0, G, this.xs!, 0, F, 1, gradients, wx.offset, F);
    for (let row = 0; row < T * B; row++) for (let j = 0; j < G; j++) gradients[b.offset + j]! += da[row * G + j]!;
    if (!needInputGradient) return null;
    const dxs = (this.timeMajorGradient = reuse(this.timeMajorGradient, dtype, T * B * F));
    k.gemm(false, false, T * B, F, G, 1, da, 0, G, values, wx.offset, F, 0, dxs, 0, F);
    const dx = (this.inputGradient = reuse(this.inputGradient, dtype, B * T * F));
    for (let n = 0; n < B; n++) for (let t = 0; t < T; t++) dx.set(dxs.subarray((t * B + n) * F, (t * B + n + 1) * F), (n * T + t) * F);
    return { shape: [B, T, F], data: dx };
  }
}
