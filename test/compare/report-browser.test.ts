// The report in a real headless Chromium: it loads with no network, no console error, every plot's
// SVG has a non-zero size, and a screenshot is a non-empty PNG. Skips when /usr/bin/chromium is
// absent (Debian package `chromium`; .ci/run installs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import '../../src/index.js';
import { runCompare } from '../../src/compare/compare.js';
import { renderReport } from '../../src/compare/report.js';
import { faultRecords, federatedResults } from './answer-records.js';
import { record, session } from './records.js';
import { tinyMatrix } from './tiny.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} is absent — install Debian's 'chromium' package (apt-get install -y chromium) to run the browser test`;

test('the report renders in headless Chromium: plots visible, no console errors, screenshot taken', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shardlearn-browser-'));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const reportPath = join(dir, 'report.html');
    await runCompare(tinyMatrix(['sequential', 'threads']), { reportPath });
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    const requested: string[] = [];
    await page.route('**/*', async (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      requested.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });

    const sizes = await page.$$eval('figure.chart > svg', (svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect();
        return {
          id: svg.parentElement?.id ?? '',
          width: box.width,
          height: box.height,
          marks: svg.querySelectorAll('path, rect, line').length,
        };
      }),
    );
    assert.ok(sizes.length >= 6, `expected at least 6 plots, found ${sizes.length}`);
    for (const size of sizes) {
      assert.ok(size.width > 100 && size.height > 100, `plot ${size.id} renders ${size.width}×${size.height}`);
      assert.ok(size.marks > 5, `plot ${size.id} draws marks`);
    }
    assert.equal(await page.locator('#claim-multicore-speedup').count(), 1);
    // The answer comes first: the first section heading, above the summary table, one entry per model.
    const headings = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent ?? ''));
    assert.equal(headings[0], 'The answer');
    assert.ok(headings.indexOf('Summary') > 0, `the summary follows the answer: ${headings.join(' | ')}`);
    const answerBox = await page.locator('#verdict').boundingBox();
    const summaryBox = await page.locator('table.summary').boundingBox();
    assert.ok(
      answerBox !== null && summaryBox !== null && answerBox.y < summaryBox.y && answerBox.height > 20,
      'the answer is drawn above the tables',
    );
    const answerText = await page.locator('#verdict').innerText();
    // A size's answer names a winner, or says the repeats cannot tell the two fastest apart.
    assert.match(answerText, /logistic-regression: (\w+ wins|\w+ and \w+ are too close to call) at \d+ rows/);
    assert.match(answerText, /kmeans: (\w+ wins|\w+ and \w+ are too close to call) at \d+ rows/);
    assert.match(answerText, /×\d+ \w+ is fastest|sequential is fastest/);
    const shot = join(dir, 'report.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    assert.ok(png.length > 10_000, `screenshot is ${png.length} bytes`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    assert.deepEqual(requested, [], 'the report fetches nothing');
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'the answer in Chromium: a Federated and a Faults line after the paradigm answers, computed from the stored results',
  { skip, timeout: 60_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardlearn-browser-'));
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
    try {
      const plain = [record({ paradigm: 'sequential', wallSeconds: 2 }), record({ paradigm: 'threads', workers: 2, wallSeconds: 1 })];
      const reportPath = join(dir, 'report.html');
      writeFileSync(
        reportPath,
        await renderReport({
          session: session(),
          skipped: [],
          aborted: false,
          records: [...plain, ...faultRecords()],
          federated: federatedResults(),
        }),
      );
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(pathToFileURL(reportPath).href, { waitUntil: 'load' });
      const items = await page.$$eval('#verdict ul.answers > li', (lis) =>
        lis.map((li) => (li as unknown as { innerText: string }).innerText),
      );
      assert.equal(items.length, 3, items.join('\n'));
      assert.match(items[0]!, /^kmeans: threads wins/);
      assert.match(
        items[1]!,
        /^Federated: logistic-regression on .* rounds to accuracy 0\.9 — FedAvg iid 6, dirichlet:0\.1 60; FedSGD:0\.5 iid 59, dirichlet:0\.1 not within 100; .*centralised accuracy 0\.9400\.$/,
      );
      assert.match(
        items[2]!,
        /^Faults: a SIGKILLed rank of logistic-regression processes×3 allreduce cost 0\.30 s per fault .* on 2 of 3 workers\.$/,
      );
      const box = await page.locator('#verdict li.answer-faults').boundingBox();
      assert.ok(box !== null && box.height > 10, 'the faults line is drawn');
      assert.deepEqual(problems, []);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
