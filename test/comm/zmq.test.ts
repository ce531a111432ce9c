// The ZeroMQ communicator passes the conformance suite with 2 and 3 ranks, each a real process
// talking CURVE-encrypted TCP over loopback. Segments are 16 KiB (2,048 float64 values), so the
// 40,000-value buffers cross in many segments per chunk, as large buffers do in production.
import { communicatorSuite } from './communicator-suite.js';
import { zmqWorld } from './zmq-worlds.js';

communicatorSuite('zeromq', zmqWorld({ segmentBytes: 16 * 1024 }), {
  sizes: [2, 3],
  lengths: [0, 1, 9, 1000, 40_000],
});
