// The shared-memory communicator passes the conformance suite with 1, 2 and 3 ranks in real worker
// threads (3 on this 2-core machine too: correctness must not depend on a core per rank). The
// scratch slot is 1 KiB (128 float64 values) and each mailbox 4 KiB, so the 40,000-value buffers
// are all-reduced in 313 chunks and the large messages stream through their ring ~80 times over.
import { communicatorSuite } from './communicator-suite.js';
import { sharedMemoryWorld } from './worlds.js';

communicatorSuite('shared-memory', sharedMemoryWorld({ slotBytes: 1024, mailboxBytes: 4096 }), {
  sizes: [1, 2, 3],
  lengths: [0, 1, 9, 1000, 40_000],
});
