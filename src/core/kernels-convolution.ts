/**
 * Convolution gemms, part of every backend's `Kernels`: a channels-last convolution's forward pass
 * y += cols(x)·Wᵀ and its filter gradient ∂W += ∂yᵀ·cols(x), where cols(x) is im2col's matrix
 * (kernels-layers.ts). A backend may compute them without materialising cols (the WASM backend
 * reads the receptive fields from the images: assembly/convgemm.ts); the reference here runs
 * im2col into the caller's scratch and then the backend's gemm.
 *
 * The input gradient ∂x = col2im(∂y·W) is the third: the reference writes ∂cols into the scratch
 * and runs col2im, the WASM backend adds each tile of ∂y·W into ∂x where col2im would.
 *
 * The scratch protocol: the layer asks `convolutionScratchLength` for a shape, keeps a workspace of
 * that length, passes it to `convolve`, then unchanged, with the same x, to
 * `convolveFilterGradient`, and last to `convolveInputGradient`, which may overwrite it. So the
 * reference builds cols once per step, reads it twice and then reuses it for ∂cols, and an
 * implicit backend needs no scratch at all (or a zero-padded copy of x, then of ∂x).
 *
 * @example
 * const k = kernels();
 * const scratch = k.workspace('float32', k.convolutionScratchLength(g, 64, batch, 'float32'));
 * k.broadcastRows(rows, 64, bias, 0, y); // y starts as the bias
 * k.convolve(g, 64, batch, x, w, 0, y, scratch);
 * k.convolveFilterGradient(g, 64, batch, x, scratch, dy, dw, 0);
 * k.convolveInputGradient(g, 64, batch, dy, w, 0, dx, scratch);
 */
import type { ConvGeometry } from './kernels-layers.js';
import { columnsLength, fieldLength, outputPositions } from './kernels-layers.js';
import type { DType, FloatArray } from './storage.js';

export interface ConvolutionKernels {
  /** Length of the scratch array the three kernels below share for one batch (may be 0). */
  convolutionScratchLength(g: ConvGeometry, filters: number, batch: number, dtype: DType): number;
  /**
   * Adds: y[rows × filters] += cols(x)·Wᵀ with rows = batch·outH·outW and W = w[wOffset…] as
   * [filters, k·k·channels] (order ky, kx, c). `scratch` is overwritten.
   */
  convolve(
    g: ConvGeometry,
    filters: number,
    batch: number,
    x: FloatArray,
    w: FloatArray,
    wOffset: number,
    y: FloatArray,
    scratch: FloatArray,
  ): void;
  /**
   * Adds: dw[dwOffset…] += dyᵀ·cols(x) ([filters, k·k·channels]), dy [rows × filters]. `x` and
   * `scratch` must be those of the last `convolve` (the scratch as it left it).
   */
  convolveFilterGradient(
    g: ConvGeometry,
    filters: number,
    batch: number,
    x: FloatArray,
    scratch: FloatArray,
    dy: FloatArray,
    dw: FloatArray,
    dwOffset: number,
  ): void;
  /**
   * dx = col2im(dy·W) (overwritten; [batch, height, width, channels]): the input gradient. Call it
   * after `convolveFilterGradient`: it may overwrite `scratch`.
   */
  convolveInputGradient(
    g: ConvGeometry,
    filters: number,
    batch: number,
    dy: FloatArray,
    w: FloatArray,
    wOffset: number,
    dx: FloatArray,
    scratch: FloatArray,
  ): void;
}

/** The gemm and im2col an explicit convolution is built from (a backend's own). */
export interface ConvolutionParts {
  gemm(
    transA: boolean,
    transB: boolean,
    m: number,
    n: number,
    k: number,
    alpha: number,
    a: FloatArray,
    aOffset: number,
    lda: number,
    b: FloatArray,
    bOffset: number,
    ldb: number,
    beta: number,
    c: FloatArray,
    cOffset: number,
    ldc: number,
  ): void;
  im2col(g: ConvGeometry, batch: number, x: FloatArray, cols: FloatArray): void;
  col2im(g: ConvGeometry, batch: number, dcols: FloatArray, dx: FloatArray): void;
}

/**
 * The explicit convolution: im2col into the scratch, then gemm over it, and ∂cols in the scratch
 * then col2im (the reference, and the WASM backend's path for shapes its implicit kernels do not take).
 * @example
 * const reference = explicitConvolution(tsKernels);
 */
export function explicitConvolution(parts: ConvolutionParts): ConvolutionKernels {
  return {
    convolutionScratchLength: (g, _filters, batch) => columnsLength(g, batch),
    convolve(g, filters, batch, x, w, wOffset, y, scratch) {
      const field = fieldLength(g);
      parts.im2col(g, batch, x, scratch);
      parts.gemm(false, true, outputPositions(g, batch), filters, field, 1, scratch, 0, field, w, wOffset, field, 1, y, 0, filters);
    },
    convolveFilterGradient(g, filters, batch, _x, scratch, dy, dw, dwOffset) {
      const field = fieldLength(g);
      parts.gemm(true, false, filters, field, outputPositions(g, batch), 1, dy, 0, filters, scratch, 0, field, 1, dw, dwOffset, field);
    },
    convolveInputGradient(g, filters, batch, dy, w, wOffset, dx, scratch) {
      const field = fieldLength(g);
      parts.gemm(false, false, outputPositions(g, batch), field, filters, 1, dy, 0, filters, w, wOffset, field, 0, scratch, 0, field);
      parts.col2im(g, batch, scratch, dx);
    },
  };
}
