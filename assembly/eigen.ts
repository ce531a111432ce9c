// Symmetric eigendecomposition (Householder tridiagonalisation + implicit QL: EISPACK's tred2/tql2
// as JAMA and ml-matrix 6.15 write them), operation for operation as ml-matrix's
// EigenvalueDecomposition({ assumeSymmetric: true }) computes it, so the result is the same to the
// bit: every step is an IEEE add, multiply, divide or square root in the same order, and WebAssembly
// neither fuses nor reorders them. Why WASM: PCA solves this d×d problem on every rank after the
// all-reduce — a serial step — and in JavaScript it took 7 ms at d = 100 once optimised, 50–100 ms
// on a worker thread's first calls (not yet optimised), 5–40 % of a 200,000-row threads×2 fit.
//
// Storage follows ml-matrix: `v` holds Vᵀ (row i of the storage is eigenvector i), which makes the
// hot loops walk rows.

// @ts-ignore: decorator
@inline function at(v: usize, n: i32, row: i32, col: i32): usize {
  return v + (<usize>(row * n + col) << 3);
}

function hypotenuse(a: f64, b: f64): f64 {
  let r: f64 = 0;
  if (Math.abs(a) > Math.abs(b)) {
    r = b / a;
    return Math.abs(a) * Math.sqrt(1 + r * r);
  }
  if (b != 0) {
    r = a / b;
    return Math.abs(b) * Math.sqrt(1 + r * r);
  }
  return 0;
}

function tred2(n: i32, e: usize, d: usize, v: usize): void {
  let f: f64, g: f64, h: f64, hh: f64, scale: f64;
  for (let j = 0; j < n; j++) store<f64>(d + (<usize>j << 3), load<f64>(at(v, n, j, n - 1)));

  for (let i = n - 1; i > 0; i--) {
    scale = 0;
    h = 0;
    for (let k = 0; k < i; k++) scale = scale + Math.abs(load<f64>(d + (<usize>k << 3)));

    if (scale == 0) {
      store<f64>(e + (<usize>i << 3), load<f64>(d + (<usize>(i - 1) << 3)));
      for (let j = 0; j < i; j++) {
        store<f64>(d + (<usize>j << 3), load<f64>(at(v, n, j, i - 1)));
        store<f64>(at(v, n, j, i), 0);
        store<f64>(at(v, n, i, j), 0);
      }
    } else {
      for (let k = 0; k < i; k++) {
        const dk = load<f64>(d + (<usize>k << 3)) / scale;
        store<f64>(d + (<usize>k << 3), dk);
        h += dk * dk;
      }
      f = load<f64>(d + (<usize>(i - 1) << 3));
      g = Math.sqrt(h);
      if (f > 0) g = -g;
      store<f64>(e + (<usize>i << 3), scale * g);
      h = h - f * g;
      store<f64>(d + (<usize>(i - 1) << 3), f - g);
      for (let j = 0; j < i; j++) store<f64>(e + (<usize>j << 3), 0);

      for (let j = 0; j < i; j++) {
        f = load<f64>(d + (<usize>j << 3));
        store<f64>(at(v, n, i, j), f);
        g = load<f64>(e + (<usize>j << 3)) + load<f64>(at(v, n, j, j)) * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const vjk = load<f64>(at(v, n, j, k));
          g += vjk * load<f64>(d + (<usize>k << 3));
          store<f64>(e + (<usize>k << 3), load<f64>(e + (<usize>k << 3)) + vjk * f);
        }
        store<f64>(e + (<usize>j << 3), g);
      }

      f = 0;
      for (let j = 0; j < i; j++) {
        const ej = load<f64>(e + (<usize>j << 3)) / h;
        store<f64>(e + (<usize>j << 3), ej);
        f += ej * load<f64>(d + (<usize>j << 3));
      }

      hh = f / (h + h);
      for (let j = 0; j < i; j++) {
        store<f64>(e + (<usize>j << 3), load<f64>(e + (<usize>j << 3)) - hh * load<f64>(d + (<usize>j << 3)));
      }

      for (let j = 0; j < i; j++) {
        f = load<f64>(d + (<usize>j << 3));
        g = load<f64>(e + (<usize>j << 3));
        for (let k = j; k <= i - 1; k++) {
          const p = at(v, n, j, k);
          store<f64>(p, load<f64>(p) - (f * load<f64>(e + (<usize>k << 3)) + g * load<f64>(d + (<usize>k << 3))));
        }
        store<f64>(d + (<usize>j << 3), load<f64>(at(v, n, j, i - 1)));
        store<f64>(at(v, n, j, i), 0);
      }
    }
    store<f64>(d + (<usize>i << 3), h);
  }

  for (let i = 0; i < n - 1; i++) {
    store<f64>(at(v, n, i, n - 1), load<f64>(at(v, n, i, i)));
    store<f64>(at(v, n, i, i), 1);
    h = load<f64>(d + (<usize>(i + 1) << 3));
    if (h != 0) {
      for (let k = 0; k <= i; k++) store<f64>(d + (<usize>k << 3), load<f64>(at(v, n, i + 1, k)) / h);
      for (let j = 0; j <= i; j++) {
        g = 0;
        for (let k = 0; k <= i; k++) g += load<f64>(at(v, n, i + 1, k)) * load<f64>(at(v, n, j, k));
        for (let k = 0; k <= i; k++) {
          const p = at(v, n, j, k);
          store<f64>(p, load<f64>(p) - g * load<f64>(d + (<usize>k << 3)));
        }
      }
    }
    for (let k = 0; k <= i; k++) store<f64>(at(v, n, i + 1, k), 0);
  }

  for (let j = 0; j < n; j++) {
    store<f64>(d + (<usize>j << 3), load<f64>(at(v, n, j, n - 1)));
    store<f64>(at(v, n, j, n - 1), 0);
  }
  store<f64>(at(v, n, n - 1, n - 1), 1);
  store<f64>(e, 0);
}

function tql2(n: i32, e: usize, d: usize, v: usize): void {
  let g: f64, h: f64, p: f64, r: f64, dl1: f64, c: f64, c2: f64, c3: f64, el1: f64, s: f64, s2: f64;
  for (let i = 1; i < n; i++) store<f64>(e + (<usize>(i - 1) << 3), load<f64>(e + (<usize>i << 3)));
  store<f64>(e + (<usize>(n - 1) << 3), 0);

  let f: f64 = 0;
  let tst1: f64 = 0;
  const eps = f64.EPSILON;

  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(load<f64>(d + (<usize>l << 3))) + Math.abs(load<f64>(e + (<usize>l << 3))));
    let m = l;
    while (m < n) {
      if (Math.abs(load<f64>(e + (<usize>m << 3))) <= eps * tst1) break;
      m++;
    }

    if (m > l) {
      do {
        g = load<f64>(d + (<usize>l << 3));
        const el = load<f64>(e + (<usize>l << 3));
        p = (load<f64>(d + (<usize>(l + 1) << 3)) - g) / (2 * el);
        r = hypotenuse(p, 1);
        if (p < 0) r = -r;
        store<f64>(d + (<usize>l << 3), el / (p + r));
        store<f64>(d + (<usize>(l + 1) << 3), el * (p + r));
        dl1 = load<f64>(d + (<usize>(l + 1) << 3));
        h = g - load<f64>(d + (<usize>l << 3));
        for (let i = l + 2; i < n; i++) store<f64>(d + (<usize>i << 3), load<f64>(d + (<usize>i << 3)) - h);
        f = f + h;

        p = load<f64>(d + (<usize>m << 3));
        c = 1;
        c2 = c;
        c3 = c;
        el1 = load<f64>(e + (<usize>(l + 1) << 3));
        s = 0;
        s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          const ei = load<f64>(e + (<usize>i << 3));
          const di = load<f64>(d + (<usize>i << 3));
          g = c * ei;
          h = c * p;
          r = hypotenuse(p, ei);
          store<f64>(e + (<usize>(i + 1) << 3), s * r);
          s = ei / r;
          c = p / r;
          p = c * di - s * g;
          store<f64>(d + (<usize>(i + 1) << 3), h + s * (c * g + s * di));
          const rowI = at(v, n, i, 0);
          const rowNext = at(v, n, i + 1, 0);
          for (let k = 0; k < n; k++) {
            const o = <usize>k << 3;
            h = load<f64>(rowNext + o);
            const vik = load<f64>(rowI + o);
            store<f64>(rowNext + o, s * vik + c * h);
            store<f64>(rowI + o, c * vik - s * h);
          }
        }
        p = (-s * s2 * c3 * el1 * load<f64>(e + (<usize>l << 3))) / dl1;
        store<f64>(e + (<usize>l << 3), s * p);
        store<f64>(d + (<usize>l << 3), c * p);
      } while (Math.abs(load<f64>(e + (<usize>l << 3))) > eps * tst1);
    }
    store<f64>(d + (<usize>l << 3), load<f64>(d + (<usize>l << 3)) + f);
    store<f64>(e + (<usize>l << 3), 0);
  }

  // Ascending eigenvalues, eigenvectors (storage rows) swapped along.
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    p = load<f64>(d + (<usize>i << 3));
    for (let j = i + 1; j < n; j++) {
      if (load<f64>(d + (<usize>j << 3)) < p) {
        k = j;
        p = load<f64>(d + (<usize>j << 3));
      }
    }
    if (k != i) {
      store<f64>(d + (<usize>k << 3), load<f64>(d + (<usize>i << 3)));
      store<f64>(d + (<usize>i << 3), p);
      for (let j = 0; j < n; j++) {
        p = load<f64>(at(v, n, i, j));
        store<f64>(at(v, n, i, j), load<f64>(at(v, n, k, j)));
        store<f64>(at(v, n, k, j), p);
      }
    }
  }
}

/**
 * Eigenvalues and eigenvectors of the symmetric n×n matrix `a` (row-major float64): `values`
 * (n, ascending) and `vectors` (n×n, row i the unit eigenvector of values[i]); `work` holds n
 * float64. `a` is read, not changed.
 */
export function symmetricEigen64(n: i32, a: usize, values: usize, vectors: usize, work: usize): void {
  // As ml-matrix: the storage starts as Aᵀ (the same for a symmetric A).
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) store<f64>(at(vectors, n, j, i), load<f64>(at(a, n, i, j)));
  }
  tred2(n, work, values, vectors);
  tql2(n, work, values, vectors);
}
