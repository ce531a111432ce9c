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
import type { ConvGeometry, LayerKernels, PoolGeometry } from './kernels-layers.js';
import { columnsLength, imagesLength, tsLayerKernels } from './kernels-layers.js';
import type { DType, FloatArray } from './storage.js';
import type { WasmHeap } from './wasm-heap.js';

/** The module's layer exports (assembly/conv.ts); pointers are byte addresses. */
interface LayerExports {
  im2col32(x: number, batch: number, height: number, width: number, channels: number, k: number, stride: number, padding: number, outHeight: number, outWidth: number, cols: number): void;
  col2im32(dcols: number, batch: number, height: number, width: number, channels: number, k: number, stride: number, padding: number, outHeight: number, outWidth: number, dx: number): void;
  maxPool32(x: number, batch: number, height: number, width: number, channels: number, size: number, stride: number, outHeight: number, outWidth: number, y: number, argmax: number): void;
  maxPoolBackward32(dy: number, argmax: number, count: number, dx: number, dxLength: number): void;
  broadcastRows32(rows: number, n: number, v: number, y: number): void;
  sumRows32(rows: number, n: number, x: number, into: number): void;
  relu32(n: number, x: number, y: number): void;
  reluBackward32(n: number, y: number, dy: number, dx: number): void;
}

type Operand = Float32Array | Int32Array;

/**
 * Layer kernels over `heap` and the instance's exports.
 * @example
 * const layers = createWasmLayerKernels(instance.exports, heap);
 * const cols = layers.workspace('float32', 1024);
 */
export function createWasmLayerKernels(exports: unknown, heap: WasmHeap): LayerKernels {
  const w = exports as LayerExports;
  if (typeof w.im2col32 !== 'function') throw new Error('kernels.wasm has no layer kernels (im2col32): it predates assembly/conv.ts; rebuild it with `npm run build:wasm`');
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

  return { workspace, workspaceInt32, im2col, col2im, maxPool, maxPoolBackward, broadcastRows, sumRows, relu, reluBackward };
}
