// Processes equivalence for the even-numbered registered model cases (see processes-equivalence.ts).
import { processesEquivalenceTests } from './processes-equivalence.js';

processesEquivalenceTests((index) => index % 2 === 0);
