/**
 * The WASM backend's layer kernels (contract: kernels-layers.ts; code: assembly/conv.ts).
 *
 * Float32 operands run in WASM; float64 ones (gradient checks, `precision: 'float64'`) on the
 * TypeScript reference. The layers allocate their buffers with `workspace`, which places them in
 * this thread's WASM memory, so a CNN step copies nothing in or out: before these kernels, copying
 * im2col's 13 MB matrix into WASM memory for each gemm, and the conv/pool loops in JavaScript,
 * took about as long as the gemms themselves (docs/notes/cnn-speed.md). An operand outside WASM
 * memory still works: it is copied into the call's scratch (and back, for outputs).
 *
 * Workspace blocks are returned to the heap by a FinalizationRegistry once their array is
 * garbage-collected, so networks built and dropped (tests, predictions) do not leak WASM memory.
 */
import type { ConvolutionKernels, ConvolutionParts } from './kernels-convolution.js';
import { explicitConvolution } from './kernels-convolution.js';
import type { ConvGeometry, LayerKernels, PoolGeometry } from './kernels-layers.js';
import { columnsLength, fieldLength, imagesLength, outputPositions, tsLayerKernels } from './kernels-layers.js';
import type { DType, FloatArray } from './storage.js';
import type { WasmHeap } from './wasm-heap.js';

/** The module's layer exports (assembly/conv.ts); pointers are byte addresses. */
interface LayerExports {
  im2col32(
    x: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    k: number,
    stride: number,
    padding: number,
    outHeight: number,
    outWidth: number,
    cols: number,
  ): void;
  col2im32(
    dcols: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    k: number,
    stride: number,
    padding: number,
    outHeight: number,
    outWidth: number,
    dx: number,
  ): void;
  maxPool32(
    x: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    size: number,
    stride: number,
    outHeight: number,
    outWidth: number,
    y: number,
    argmax: number,
  ): void;
  maxPoolBackward32(dy: number, argmax: number, count: number, dx: number, dxLength: number): void;
  broadcastRows32(rows: number, n: number, v: number, y: number): void;
  sumRows32(rows: number, n: number, x: number, into: number): void;
  relu32(n: number, x: number, y: number): void;
  reluBackward32(n: number, y: number, dy: number, dx: number): void;
  implicitConvolution32(filters: number, field: number, runLength: number): number;
  implicitInputGradient32(runLength: number): number;
  convolutionTable32(
    batch: number,
    height: number,
    width: number,
    channels: number,
    stride: number,
    outHeight: number,
    outWidth: number,
    table: number,
  ): void;
  padImages32(x: number, batch: number, height: number, width: number, channels: number, padding: number, padded: number): void;
  cropImages32(padded: number, batch: number, height: number, width: number, channels: number, padding: number, x: number): void;
  convolutionInputGradient32(
    dx: number,
    imagesBytes: number,
    table: number,
    rows: number,
    filters: number,
    field: number,
    runLength: number,
    lineBytes: number,
    dy: number,
    w: number,
    work: number,
  ): void;
  convolutionForward32(
    x: number,
    table: number,
    rows: number,
    filters: number,
    field: number,
    runLength: number,
    lineBytes: number,
    w: number,
    y: number,
    work: number,
  ): void;
  convolutionFilterGradient32(
    x: number,
    table: number,
    rows: number,
    filters: number,
    field: number,
    runLength: number,
    lineBytes: number,
    dy: number,
    dw: number,
    work: number,
  ): void;
  gemm32WorkBytes(): number;
  winograd32(
    kernelSize: number,
    stride: number,
    padding: number,
    channels: number,
    filters: number,
    outHeight: number,
    outWidth: number,
  ): number;
  winogradFilterBytes(channels: number, filters: number): number;
  winogradWorkBytes(channels: number, filters: number): number;
  winogradFilters32(w: number, channels: number, filters: number, u: number, scratch: number): void;
  winogradForward32(
    x: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    filters: number,
    u: number,
    y: number,
    work: number,
  ): void;
  winogradBackwardWorkBytes(channels: number, filters: number): number;
  winogradFilterGradient32(
    x: number,
    dy: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    filters: number,
    dw: number,
    work: number,
  ): void;
  winogradInputGradient32(
    dy: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    filters: number,
    u: number,
    dx: number,
    work: number,
  ): void;
}

/** Choices of the layer kernels (WasmKernelsOptions passes them on). */
export interface WasmLayerOptions {
  /**
   * 5×5 stride-1 unpadded convolutions (channels and filters multiples of 8, even output sides) by
   * Winograd's F(2×2, 5×5) (assembly/winograd.ts), forward and both backward passes: 2.8× fewer
   * multiply-adds, float32 rounding within 1e-5 of the direct sums but not bitwise equal to them.
   * Default true; false keeps every convolution on the direct gemms.
   */
  winograd?: boolean;
}

type Operand = Float32Array | Int32Array;

/**
 * Layer and convolution kernels over `heap` and the instance's exports; `gemm` is the backend's,
 * for convolutions the implicit kernels do not take (im2col + gemm).
 * @example
 * const layers = createWasmLayerKernels(instance.exports, heap, gemm);
 * const cols = layers.workspace('float32', 1024);
 */
export function createWasmLayerKernels(
  exports: unknown,
  heap: WasmHeap,
  gemm: ConvolutionParts['gemm'],
  options: WasmLayerOptions = {},
): LayerKernels & ConvolutionKernels {
  const w = exports as LayerExports;
  if (typeof w.im2col32 !== 'function')
    throw new Error('kernels.wasm has no layer kernels (im2col32): it predates assembly/conv.ts; rebuild it with `npm run build:wasm`');
  const ts = tsLayerKernels;
  const registry = new FinalizationRegistry<{ offset: number; bytes: number }>(({ offset, bytes }) => heap.release(offset, bytes));

  const allocate = (bytes: number): number => {
    const offset = heap.allocate(bytes);
    // A block may be reused from a collected workspace: clear it (workspaces start zeroed).
    new Uint8Array(heap.buffer(), offset, bytes).fill(0);
    return offset;
  };
  const workspace = (dtype: DType, length: number): FloatArray => {
    const bytes = length * (dtype === 'float32' ? 4 : 8);
    const offset = allocate(bytes);
    const array = dtype === 'float32' ? new Float32Array(heap.buffer(), offset, length) : new Float64Array(heap.buffer(), offset, length);
    registry.register(array, { offset, bytes });
    return array;
  };
  const workspaceInt32 = (length: number): Int32Array => {
    const offset = allocate(length * 4);
    const array = new Int32Array(heap.buffer(), offset, length);
    registry.register(array, { offset, bytes: length * 4 });
    return array;
  };

  // Scratch bytes an operand needs: none when it already lives in WASM memory.
  const need = (array: Operand, length: number): number => (heap.contains(array) ? 0 : length * 4 + 16);
  // Its address; a copy in scratch (copied in when `copy`) when it lives outside.
  const place = (array: Operand, length: number, copy: boolean): number => {
    if (heap.contains(array)) return array.byteOffset;
    const at = heap.take(length * 4);
    if (copy) (array instanceof Float32Array ? heap.f32 : heap.i32).set(array.subarray(0, length), at / 4);
    return at;
  };
  // Copy an output computed in scratch back to its array.
  const back = (array: Operand, length: number, at: number): void => {
    if (heap.contains(array)) return;
    if (array instanceof Float32Array) array.set(heap.f32.subarray(at / 4, at / 4 + length));
    else array.set(heap.i32.subarray(at / 4, at / 4 + length));
  };
  const f32 = (...arrays: FloatArray[]): boolean => arrays.every((a) => a instanceof Float32Array);

  const im2col = (g: ConvGeometry, batch: number, x: FloatArray, cols: FloatArray): void => {
    if (!f32(x, cols)) return ts.im2col(g, batch, x, cols);
    const xLength = imagesLength(g, batch);
    const colsLength = columnsLength(g, batch);
    heap.beginScratch(need(x as Float32Array, xLength) + need(cols as Float32Array, colsLength));
    const xAt = place(x as Float32Array, xLength, true);
    const colsAt = place(cols as Float32Array, colsLength, false);
    w.im2col32(xAt, batch, g.height, g.width, g.channels, g.kernelSize, g.stride, g.padding, g.outHeight, g.outWidth, colsAt);
    back(cols as Float32Array, colsLength, colsAt);
  };

  const col2im = (g: ConvGeometry, batch: number, dcols: FloatArray, dx: FloatArray): void => {
    if (!f32(dcols, dx)) return ts.col2im(g, batch, dcols, dx);
    const dxLength = imagesLength(g, batch);
    const colsLength = columnsLength(g, batch);
    heap.beginScratch(need(dcols as Float32Array, colsLength) + need(dx as Float32Array, dxLength));
    const colsAt = place(dcols as Float32Array, colsLength, true);
    const dxAt = place(dx as Float32Array, dxLength, false);
    w.col2im32(colsAt, batch, g.height, g.width, g.channels, g.kernelSize, g.stride, g.padding, g.outHeight, g.outWidth, dxAt);
    back(dx as Float32Array, dxLength, dxAt);
  };

  const maxPool = (g: PoolGeometry, batch: number, x: FloatArray, y: FloatArray, argmax: Int32Array): void => {
    if (!f32(x, y)) return ts.maxPool(g, batch, x, y, argmax);
    const xLength = imagesLength(g, batch);
    const yLength = batch * g.outHeight * g.outWidth * g.channels;
    heap.beginScratch(need(x as Float32Array, xLength) + need(y as Float32Array, yLength) + need(argmax, yLength));
    const xAt = place(x as Float32Array, xLength, true);
    const yAt = place(y as Float32Array, yLength, false);
    const argmaxAt = place(argmax, yLength, false);
    w.maxPool32(xAt, batch, g.height, g.width, g.channels, g.size, g.stride, g.outHeight, g.outWidth, yAt, argmaxAt);
    back(y as Float32Array, yLength, yAt);
    back(argmax, yLength, argmaxAt);
  };

  const maxPoolBackward = (count: number, dy: FloatArray, argmax: Int32Array, dx: FloatArray): void => {
    if (!f32(dy, dx)) return ts.maxPoolBackward(count, dy, argmax, dx);
    heap.beginScratch(need(dy as Float32Array, count) + need(argmax, count) + need(dx as Float32Array, dx.length));
    const dyAt = place(dy as Float32Array, count, true);
    const argmaxAt = place(argmax, count, true);
    const dxAt = place(dx as Float32Array, dx.length, false);
    w.maxPoolBackward32(dyAt, argmaxAt, count, dxAt, dx.length);
    back(dx as Float32Array, dx.length, dxAt);
  };

  const broadcastRows = (rows: number, n: number, v: FloatArray, vOffset: number, y: FloatArray): void => {
    if (!f32(v, y)) return ts.broadcastRows(rows, n, v, vOffset, y);
    const vector = v.subarray(vOffset, vOffset + n) as Float32Array;
    heap.beginScratch(need(vector, n) + need(y as Float32Array, rows * n));
    const vAt = place(vector, n, true);
    const yAt = place(y as Float32Array, rows * n, false);
    w.broadcastRows32(rows, n, vAt, yAt);
    back(y as Float32Array, rows * n, yAt);
  };

  const sumRows = (rows: number, n: number, x: FloatArray, into: FloatArray, intoOffset: number): void => {
    if (!f32(x, into)) return ts.sumRows(rows, n, x, into, intoOffset);
    const target = into.subarray(intoOffset, intoOffset + n) as Float32Array;
    heap.beginScratch(need(x as Float32Array, rows * n) + need(target, n));
    const xAt = place(x as Float32Array, rows * n, true);
    const intoAt = place(target, n, true);
    w.sumRows32(rows, n, xAt, intoAt);
    back(target, n, intoAt);
  };

  const relu = (n: number, x: FloatArray, y: FloatArray): void => {
    if (!f32(x, y)) return ts.relu(n, x, y);
    heap.beginScratch(need(x as Float32Array, n) + need(y as Float32Array, n));
    const xAt = place(x as Float32Array, n, true);
    const yAt = place(y as Float32Array, n, false);
    w.relu32(n, xAt, yAt);
    back(y as Float32Array, n, yAt);
  };

  const reluBackward = (n: number, y: FloatArray, dy: FloatArray, dx: FloatArray): void => {
    if (!f32(y, dy, dx)) return ts.reluBackward(n, y, dy, dx);
    heap.beginScratch(need(y as Float32Array, n) + need(dy as Float32Array, n) + need(dx as Float32Array, n));
    const yAt = place(y as Float32Array, n, true);
    const dyAt = place(dy as Float32Array, n, true);
    const dxAt = place(dx as Float32Array, n, false);
    w.reluBackward32(n, yAt, dyAt, dxAt);
    back(dx as Float32Array, n, dxAt);
  };

  // Convolutions: implicit im2col (assembly/convgemm.ts) for float32 shapes it takes, else im2col +
  // gemm. With padding, the scratch holds a zero-padded copy of x, made by `convolve` and read again
  // by `convolveFilterGradient`, then the padded ∂x; ∂cols when ∂x takes the explicit path.
  const explicit = explicitConvolution({ gemm, im2col, col2im });
  const workBytes = w.gemm32WorkBytes();
  // The field table holds byte offsets into the (padded) images as i32: beyond 2 GiB of images in
  // one call, the explicit path.
  const implicit = (g: ConvGeometry, filters: number, batch: number): boolean =>
    w.implicitConvolution32(filters, fieldLength(g), g.kernelSize * g.channels) !== 0 &&
    imagesLength(paddedGeometry(g), batch) * 4 <= 0x7fffffff;
  const paddedGeometry = (g: ConvGeometry): ConvGeometry => ({
    ...g,
    height: g.height + 2 * g.padding,
    width: g.width + 2 * g.padding,
    padding: 0,
  });
  const paddedLength = (g: ConvGeometry, batch: number): number => (g.padding === 0 ? 0 : imagesLength(paddedGeometry(g), batch));
  // ∂x through ∂cols (gemm + col2im) when a tile's 8 columns may straddle two runs (the first CNN
  // layer's 5 × 1: but the first layer needs no ∂x), so the scratch must then hold ∂cols.
  const implicitInput = (g: ConvGeometry): boolean => w.implicitInputGradient32(g.kernelSize * g.channels) !== 0;

  const convolutionScratchLength: ConvolutionKernels['convolutionScratchLength'] = (g, filters, batch, dtype) => {
    if (dtype !== 'float32' || !implicit(g, filters, batch)) return explicit.convolutionScratchLength(g, filters, batch, dtype);
    return Math.max(paddedLength(g, batch), implicitInput(g) ? 0 : columnsLength(g, batch));
  };

  // Each output position's field offset in images of geometry `g` (unpadded), in call scratch.
  const fieldTable = (g: ConvGeometry, batch: number): number => {
    const table = heap.take(outputPositions(g, batch) * 4);
    w.convolutionTable32(batch, g.height, g.width, g.channels, g.stride, g.outHeight, g.outWidth, table);
    return table;
  };
  // The images the implicit kernels read — x, or its padded copy in the scratch (made when `pad`)
  // — with their geometry and field table; scratch for the call is already begun.
  const images = (
    g: ConvGeometry,
    batch: number,
    x: Float32Array,
    scratch: Float32Array,
    pad: boolean,
  ): { at: number; geometry: ConvGeometry; table: number } => {
    if (g.padding === 0) return { at: place(x, imagesLength(g, batch), true), geometry: g, table: fieldTable(g, batch) };
    const geometry = paddedGeometry(g);
    const length = paddedLength(g, batch);
    if (!pad) return { at: place(scratch, length, true), geometry, table: fieldTable(geometry, batch) };
    const xAt = place(x, imagesLength(g, batch), true);
    const at = place(scratch, length, false);
    w.padImages32(xAt, batch, g.height, g.width, g.channels, g.padding, at);
    back(scratch, length, at);
    return { at, geometry, table: fieldTable(geometry, batch) };
  };
  const imagesNeed = (g: ConvGeometry, batch: number, x: Float32Array, scratch: Float32Array): number =>
    outputPositions(g, batch) * 4 + 16 + need(x, imagesLength(g, batch)) + need(scratch, paddedLength(g, batch));

  // Winograd's forward pass (assembly/winograd.ts) where it applies, among the shapes the implicit
  // kernels take (the explicit path's backward reads the cols its forward pass leaves in the
  // scratch; the implicit ∂W reads x). A module built before it has no winograd32.
  const winogradOn = options.winograd !== false && typeof w.winograd32 === 'function';
  const winograd = (g: ConvGeometry, filters: number): boolean =>
    winogradOn && w.winograd32(g.kernelSize, g.stride, g.padding, g.channels, filters, g.outHeight, g.outWidth) !== 0;
  /**
   * The forward pass and ∂x both start from the filters transformed (U = G g Gᵀ, winogradFilters32),
   * then run `kernel` from `input` into `output` with `workBytes` of work: the scratch laid out the
   * same for both (U, work, the transform's 1,056 bytes, then input, filter and output as placed).
   */
  const withTransformedFilters = (
    g: ConvGeometry,
    filters: number,
    workBytes: number,
    input: Float32Array,
    inputLength: number,
    filter: Float32Array,
    output: Float32Array,
    outputLength: number,
    copyOutput: boolean,
    kernel: (inputAt: number, u: number, outputAt: number, work: number) => void,
  ): void => {
    const uBytes = w.winogradFilterBytes(g.channels, filters);
    heap.beginScratch(uBytes + workBytes + 1056 + 48 + need(input, inputLength) + need(filter, filter.length) + need(output, outputLength));
    const u = heap.take(uBytes);
    const work = heap.take(workBytes);
    const transformScratch = heap.take(1056);
    const inputAt = place(input, inputLength, true);
    const wAt = place(filter, filter.length, true);
    const outputAt = place(output, outputLength, copyOutput);
    // The filters change every step: transformed per call (64×32 filters of 5×5: ~0.1 ms, against ~10 ms of products).
    w.winogradFilters32(wAt, g.channels, filters, u, transformScratch);
    kernel(inputAt, u, outputAt, work);
    back(output, outputLength, outputAt);
  };
  const convolveWinograd = (
    g: ConvGeometry,
    filters: number,
    batch: number,
    x: Float32Array,
    filter: Float32Array,
    y: Float32Array,
  ): void =>
    withTransformedFilters(
      g,
      filters,
      w.winogradWorkBytes(g.channels, filters),
      x,
      imagesLength(g, batch),
      filter,
      y,
      outputPositions(g, batch) * filters,
      true,
      (xAt, u, yAt, work) => w.winogradForward32(xAt, batch, g.height, g.width, g.channels, filters, u, yAt, work),
    );

  const filterGradientWinograd = (
    g: ConvGeometry,
    filters: number,
    batch: number,
    x: Float32Array,
    dy: Float32Array,
    gradient: Float32Array,
  ): void => {
    const xLength = imagesLength(g, batch);
    const dyLength = outputPositions(g, batch) * filters;
    const workBytes = w.winogradBackwardWorkBytes(g.channels, filters);
    heap.beginScratch(workBytes + 32 + need(x, xLength) + need(dy, dyLength) + need(gradient, gradient.length));
    const work = heap.take(workBytes);
    const xAt = place(x, xLength, true);
    const dyAt = place(dy, dyLength, true);
    const dwAt = place(gradient, gradient.length, true);
    w.winogradFilterGradient32(xAt, dyAt, batch, g.height, g.width, g.channels, filters, dwAt, work);
    back(gradient, gradient.length, dwAt);
  };
  const inputGradientWinograd = (
    g: ConvGeometry,
    filters: number,
    batch: number,
    dy: Float32Array,
    filter: Float32Array,
    dx: Float32Array,
  ): void =>
    withTransformedFilters(
      g,
      filters,
      w.winogradBackwardWorkBytes(g.channels, filters),
      dy,
      outputPositions(g, batch) * filters,
      filter,
      dx,
      imagesLength(g, batch),
      false,
      (dyAt, u, dxAt, work) => w.winogradInputGradient32(dyAt, batch, g.height, g.width, g.channels, filters, u, dxAt, work),
    );

  const convolve: ConvolutionKernels['convolve'] = (g, filters, batch, x, weights, wOffset, y, scratch) => {
    if (!f32(x, weights, y, scratch) || !implicit(g, filters, batch))
      return explicit.convolve(g, filters, batch, x, weights, wOffset, y, scratch);
    if (winograd(g, filters)) {
      const filter = weights.subarray(wOffset, wOffset + filters * fieldLength(g)) as Float32Array;
      return convolveWinograd(g, filters, batch, x as Float32Array, filter, y as Float32Array);
    }
    const field = fieldLength(g);
    const rows = outputPositions(g, batch);
    const filter = weights.subarray(wOffset, wOffset + filters * field) as Float32Array;
    heap.beginScratch(
      workBytes +
        imagesNeed(g, batch, x as Float32Array, scratch as Float32Array) +
        need(filter, filters * field) +
        need(y as Float32Array, rows * filters),
    );
    const work = heap.take(workBytes);
    const source = images(g, batch, x as Float32Array, scratch as Float32Array, true);
    const wAt = place(filter, filters * field, true);
    const yAt = place(y as Float32Array, rows * filters, true);
    const lineBytes = source.geometry.width * g.channels * 4;
    w.convolutionForward32(source.at, source.table, rows, filters, field, g.kernelSize * g.channels, lineBytes, wAt, yAt, work);
    back(y as Float32Array, rows * filters, yAt);
  };

  const convolveFilterGradient: ConvolutionKernels['convolveFilterGradient'] = (g, filters, batch, x, scratch, dy, dw, dwOffset) => {
    if (!f32(x, scratch, dy, dw) || !implicit(g, filters, batch))
      return explicit.convolveFilterGradient(g, filters, batch, x, scratch, dy, dw, dwOffset);
    if (winograd(g, filters)) {
      const gradient = dw.subarray(dwOffset, dwOffset + filters * fieldLength(g)) as Float32Array;
      return filterGradientWinograd(g, filters, batch, x as Float32Array, dy as Float32Array, gradient);
    }
    const field = fieldLength(g);
    const rows = outputPositions(g, batch);
    const gradient = dw.subarray(dwOffset, dwOffset + filters * field) as Float32Array;
    heap.beginScratch(
      workBytes +
        imagesNeed(g, batch, x as Float32Array, scratch as Float32Array) +
        need(dy as Float32Array, rows * filters) +
        need(gradient, filters * field),
    );
    const work = heap.take(workBytes);
    const source = images(g, batch, x as Float32Array, scratch as Float32Array, false);
    const dyAt = place(dy as Float32Array, rows * filters, true);
    const dwAt = place(gradient, filters * field, true);
    const lineBytes = source.geometry.width * g.channels * 4;
    w.convolutionFilterGradient32(source.at, source.table, rows, filters, field, g.kernelSize * g.channels, lineBytes, dyAt, dwAt, work);
    back(gradient, filters * field, dwAt);
  };

  const convolveInputGradient: ConvolutionKernels['convolveInputGradient'] = (g, filters, batch, dy, weights, wOffset, dx, scratch) => {
    if (!f32(dy, weights, dx, scratch) || !implicit(g, filters, batch) || !implicitInput(g))
      return explicit.convolveInputGradient(g, filters, batch, dy, weights, wOffset, dx, scratch);
    if (winograd(g, filters)) {
      const filter = weights.subarray(wOffset, wOffset + filters * fieldLength(g)) as Float32Array;
      return inputGradientWinograd(g, filters, batch, dy as Float32Array, filter, dx as Float32Array);
    }
    const field = fieldLength(g);
    const rows = outputPositions(g, batch);
    const filter = weights.subarray(wOffset, wOffset + filters * field) as Float32Array;
    const dxLength = imagesLength(g, batch);
    const padded = g.padding === 0 ? g : paddedGeometry(g);
    heap.beginScratch(
      workBytes +
        rows * 4 +
        16 +
        need(dy as Float32Array, rows * filters) +
        need(filter, filters * field) +
        need(dx as Float32Array, dxLength) +
        need(scratch as Float32Array, paddedLength(g, batch)),
    );
    const work = heap.take(workBytes);
    const table = fieldTable(padded, batch);
    const dyAt = place(dy as Float32Array, rows * filters, true);
    const wAt = place(filter, filters * field, true);
    const dxAt = place(dx as Float32Array, dxLength, false);
    // With padding, ∂x of the padded images goes to the scratch (the padded x is no longer needed),
    // and its interior to dx.
    const targetAt = g.padding === 0 ? dxAt : place(scratch as Float32Array, paddedLength(g, batch), false);
    const lineBytes = padded.width * g.channels * 4;
    w.convolutionInputGradient32(
      targetAt,
      imagesLength(padded, batch) * 4,
      table,
      rows,
      filters,
      field,
      g.kernelSize * g.channels,
      lineBytes,
      dyAt,
      wAt,
      work,
    );
    if (g.padding !== 0) w.cropImages32(targetAt, batch, g.height, g.width, g.channels, g.padding, dxAt);
    back(dx as Float32Array, dxLength, dxAt);
  };

  return {
    workspace,
    workspaceInt32,
    im2col,
    col2im,
    maxPool,
    maxPoolBackward,
    broadcastRows,
    sumRows,
    relu,
    reluBackward,
    convolutionScratchLength,
    convolve,
    convolveFilterGradient,
    convolveInputGradient,
  };
}
