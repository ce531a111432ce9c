#!/usr/bin/env node
// The CLI entry: the compiled TypeScript lives in dist/ (built by `npm run build`, run by `npm ci`'s prepare).
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
