/** The built-in codecs, registered once; see codec.ts for the interface and registry.ts to add one. */
import { bf16Codec } from './bf16.js';
import { fp16Codec } from './fp16.js';
import { noneCodec } from './none.js';
import { powersgdCodec } from './powersgd.js';
import { qsgdCodec } from './qsgd.js';
import { randomkCodec } from './randomk.js';
import { registerCodec } from './registry.js';
import { signsgdCodec } from './signsgd.js';
import { terngradCodec } from './terngrad.js';
import { topk16Codec, topkCodec } from './topk.js';

registerCodec('none', noneCodec);
registerCodec('fp16', fp16Codec);
registerCodec('bf16', bf16Codec);
registerCodec('topk:<ratio>', topkCodec);
registerCodec('topk16:<ratio>', topk16Codec);
registerCodec('randomk:<ratio>', randomkCodec);
registerCodec('qsgd:<levels>', qsgdCodec);
registerCodec('terngrad', terngradCodec);
registerCodec('signsgd', signsgdCodec);
registerCodec('powersgd:<rank>', powersgdCodec);

export { createCodec, registerCodec, codecUsages } from './registry.js';
export type { CodecFactory } from './registry.js';
export type { Codec, CodecLayout, CodecState, StateOptions } from './codec.js';
export { exportCodecState, importCodecState } from './codec.js';
export { powerShape, warmStart, project, backProject, orthonormalize, reconstruct } from './powersgd.js';
export type { PowerShape } from './powersgd.js';
