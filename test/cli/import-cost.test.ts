// What every CLI command and every program importing the library pays before it does anything:
// Vega with Vega-Lite (~370 modules, the report's charts) and DuckDB (~180 modules and a native
// library, the results database) were imported at the top of the modules that use them, so
// `shardlearn train` and `import 'shardlearn'` loaded both (0.7 s per import here, 0.35 s without
// them). They are imported where a chart is drawn or a database opened. Checked in a fresh Node
// process by the module URLs its loader resolved (a resolve hook that logs them), and, so the check
// is known to see them, once more after importing them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jsonFromFreshProcess } from '../support/fresh-process.js';

const HOOK = `
  import { appendFileSync } from 'node:fs';
  let log;
  export function initialize(data) { log = data.log; }
  export async function resolve(specifier, context, next) {
    const result = await next(specifier, context);
    appendFileSync(log, result.url + '\\n');
    return result;
  }`;

/** Which of Vega, Vega-Lite and DuckDB a fresh process resolved after importing `entry`, then after importing them too. */
function heavyResolved(entry: URL): { afterEntry: string[]; afterAll: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-import-'));
  const log = join(dir, 'resolved.txt');
  try {
    const script = `
      import { register } from 'node:module';
      import { readFileSync } from 'node:fs';
      register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(HOOK)}), import.meta.url, { data: { log: ${JSON.stringify(log)} } });
      const seen = () => [...new Set(readFileSync(${JSON.stringify(log)}, 'utf8').split('\\n')
        .map((url) => /node_modules\\/(vega|vega-lite|@duckdb\\/node-api)\\//.exec(url)?.[1]).filter(Boolean))].sort();
      await import(${JSON.stringify(entry.href)});
      const afterEntry = seen();
      await Promise.all([import('vega'), import('vega-lite'), import('@duckdb/node-api')]);
      console.log(JSON.stringify({ afterEntry, afterAll: seen() }));
    `;
    return jsonFromFreshProcess<{ afterEntry: string[]; afterAll: string[] }>(script);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const entry of ['index.js', 'cli/main.js']) {
  test(`importing ${entry} loads neither Vega nor DuckDB (a report or a database does, when used)`, () => {
    const { afterEntry, afterAll } = heavyResolved(new URL(`../../src/${entry}`, import.meta.url));
    assert.deepEqual(afterEntry, [], `importing ${entry} resolved ${afterEntry.join(', ')}`);
    assert.deepEqual(afterAll, ['@duckdb/node-api', 'vega', 'vega-lite'], 'the check sees the packages once they are imported');
  });
}
