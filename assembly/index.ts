// Entry point of the WebAssembly kernel module (compiled by `npm run build:wasm`). The module has no
// runtime and no static data: it only reads and writes the addresses the JavaScript side passes, so
// one shared memory can hold both the data and every thread's workspace.
export { gemm64, gemm64WorkBytes } from './gemm64';
export { gemm32, gemm32WorkBytes } from './gemm32';
export { dot, axpy, scal, gemv, gatherDot, gatherAxpy } from './vector';
export { syrk, subtractRow, nearestCenter, nearestCenterWorkBytes, lloydStep, lloydStepWorkBytes } from './statistics';
export { symmetricEigen64 } from './eigen';
export { im2col32, col2im32, maxPool32, maxPoolBackward32, broadcastRows32, sumRows32, relu32, reluBackward32 } from './conv';
export { implicitConvolution32, convolutionTable32, padImages32, convolutionForward32, convolutionFilterGradient32 } from './convgemm';
export { implicitInputGradient32, convolutionInputGradient32, cropImages32 } from './convgemm-input';
export { sumFinite32, sumFinite64, nonFinite32, nonFinite64 } from './reduce';
export { winograd32, winogradFilterBytes, winogradWorkBytes, winogradFilters32, winogradForward32 } from './winograd';
export { winogradBackwardWorkBytes, winogradFilterGradient32, winogradInputGradient32 } from './winograd-backward';
