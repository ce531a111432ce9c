/**
 * Tiny synthetic tasks for the neural models' tests, each one a linear model cannot solve:
 * XOR points (MLP), bar orientations in small images (CNN), and remembering the first step of a
 * noisy sequence (RNN).
 */
import { Rng } from '../../src/core/rng.js';
import { Dataset } from '../../src/data/dataset.js';

/** Points in [−1, 1]²; class 1 when x·y > 0 (XOR of the signs). */
export function xorData(rows: number, seed: number): Dataset {
  const rng = new Rng(seed);
  const x = new Float64Array(rows * 2);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const a = 2 * rng.uniform() - 1;
    const b = 2 * rng.uniform() - 1;
    x[2 * i] = a;
    x[2 * i + 1] = b;
    y[i] = a * b > 0 ? 1 : 0;
  }
  return new Dataset({ x, y, rows, cols: 2 });
}

/** side×side one-channel images with a horizontal (0), vertical (1) or diagonal (2) bar at a random place, plus noise. */
export function barImages(rows: number, seed: number, side = 8): Dataset {
  const rng = new Rng(seed);
  const cols = side * side;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const label = rng.int(3);
    y[i] = label;
    const at = 1 + rng.int(side - 2);
    for (let p = 0; p < cols; p++) x[i * cols + p] = 0.2 * rng.uniform();
    for (let t = 0; t < side; t++) {
      const [r, c] = label === 0 ? [at, t] : label === 1 ? [t, at] : [t, t];
      x[i * cols + r * side + c] = 1;
    }
  }
  return new Dataset({ x, y, rows, cols });
}

/** Sequences of `steps` × 2 features: the class (0, 1, 2) is coded in step 0 only, the rest is noise. */
export function firstStepSequences(rows: number, seed: number, steps = 6): Dataset {
  const rng = new Rng(seed);
  const cols = steps * 2;
  const x = new Float64Array(rows * cols);
  const y = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const label = rng.int(3);
    y[i] = label;
    for (let j = 0; j < cols; j++) x[i * cols + j] = 0.5 * rng.normal();
    x[i * cols] = label - 1;
  }
  return new Dataset({ x, y, rows, cols });
}
