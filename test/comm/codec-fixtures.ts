// Re-exports for the codec tests (one import site).
export { createCodec, registerCodec } from '../../src/comm/codecs/index.js';
export { noneCodec as noneCodecForTest } from '../../src/comm/codecs/none.js';
