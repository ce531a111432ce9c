// Paradigm equivalence for the odd-numbered registered model cases (see threads-equivalence.ts).
import { equivalenceTests } from './threads-equivalence.js';

equivalenceTests((index) => index % 2 === 1);
