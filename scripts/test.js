// The test command (`npm test` runs it after the build): every dist/test/**/*.test.js file, in
// three groups, and with `--lint` the lint beside them.
//
// - The main stream: most files, one at a time (`node --test --test-concurrency=1`), as before.
// - Beside it, a second lane: with `--lint` first `npm run lint` (eslint and prettier, ~45 s of one
//   core), then the files listed in WAITING, one at a time. Those spend most of their wall time
//   waiting (timeouts, leases, rendezvous, child processes and network namespaces starting), not
//   computing: measured one file at a time with /usr/bin/time on the 2-vCPU development VM
//   (2026-12-05), each used under 0.7 CPU-seconds per wall second. Together they took 198 s of the
//   suite's 754 s, for 81 CPU-seconds. Run one at a time after the rest, they left a core idle for
//   most of three minutes.
// - Then the files listed in ALONE, with nothing beside them: they measure speed (the advisor's
//   measured test compares threads and processes wall times), and a second lane would move
//   their figures.
//
// Running every file two at a time instead (`--test-concurrency=2`) took 9–11 minutes, but failed
// tests in 1 run of 3 (the advisor's measured test among them): files that compute and time
// themselves slow each other down. Only the waiting files and the lint run beside others here.
//
// `node scripts/test.js --serial` runs every file one at a time (the old command), and the lint
// first when asked. The exit code is non-zero when the lint or any group failed; each step has a
// deadline (SHARDLEARN_TEST_GROUP_TIMEOUT_MS, default 45 minutes), after which it is killed and
// reported.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { clearTimeout, setTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testRoot = join(root, 'dist', 'test');

/** Files (under dist/test) that mostly wait: run in a second lane beside the main stream. */
const WAITING = [
  'cli/cluster-network.test.js',
  'cli/collective-lane.test.js',
  'cli/insecure-transport.test.js',
  'cli/lane-hosts.test.js',
  'cli/slurm.test.js',
  'comm/zmq-departures.test.js',
  'comm/zmq-fault-proxy.test.js',
  'comm/zmq-join.test.js',
  'comm/zmq-lane-board.test.js',
  'comm/zmq-lane-seal.test.js',
  'comm/zmq-lane.test.js',
  'comm/zmq-renewal.test.js',
  'comm/zmq-security.test.js',
  'comm/zmq-threads.test.js',
  'comm/zmq-wire.test.js',
  'compare/networks.test.js',
  'runtime/cluster-netns.test.js',
  'runtime/elastic-dead-members.test.js',
  'runtime/elastic-etcd.test.js',
  'runtime/elastic-growth-processes.test.js',
  'runtime/federated-hosts.test.js',
  'runtime/federated-silo.test.js',
  'runtime/federated.test.js',
  'runtime/launch-orphans.test.js',
  'runtime/processes-network.test.js',
  'runtime/rendezvous-etcd.test.js',
];

/** Files that time training runs against each other: run last, with nothing beside them. */
const ALONE = ['compare/advisor-measured.test.js'];

const NODE_TEST_ARGS = ['--test', '--test-concurrency=1', '--test-timeout=600000'];
const GROUP_TIMEOUT_MS = Number(process.env.SHARDLEARN_TEST_GROUP_TIMEOUT_MS ?? 45 * 60_000);
if (!(GROUP_TIMEOUT_MS > 0)) {
  console.error(
    `test: SHARDLEARN_TEST_GROUP_TIMEOUT_MS must be a positive number of milliseconds, found '${process.env.SHARDLEARN_TEST_GROUP_TIMEOUT_MS}'`,
  );
  process.exit(2);
}

function testFiles(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return testFiles(path);
    return entry.name.endsWith('.test.js') ? [relative(testRoot, path)] : [];
  });
}

if (!existsSync(testRoot)) {
  console.error(`test: ${relative(root, testRoot)} does not exist; build first (npm run build)`);
  process.exit(2);
}
const all = testFiles(testRoot).sort();
const missing = [...WAITING, ...ALONE].filter((file) => !all.includes(file));
if (missing.length > 0) {
  console.error(`test: scripts/test.js lists ${missing.join(', ')}, not found under dist/test (renamed or removed? update the list)`);
  process.exit(2);
}
const serial = process.argv.includes('--serial');
const main = serial ? all : all.filter((file) => !WAITING.includes(file) && !ALONE.includes(file));

/** Children still running, killed if this process is stopped. */
const running = new Set();
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) child.kill('SIGTERM');
    process.exit(130);
  });
}

/** One `node --test` run over `files`, one at a time (see `step`), with the number of files and the totals it printed. */
async function run(name, files, live) {
  const reporter = process.stdout.isTTY ? ['--test-reporter=spec'] : [];
  const { output, ...done } = await step(
    name,
    process.execPath,
    [...NODE_TEST_ARGS, ...reporter, ...files.map((file) => join(testRoot, file))],
    live,
  );
  return { ...done, files: files.length, counts: counts(output) };
}

/**
 * Run `command`: `live`, its output is passed through as it comes; else it is kept and printed
 * when the run ends (so two lanes' lines do not interleave).
 */
function step(name, command, args, live) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    let output = '';
    const take = (stream, chunk) => {
      output += chunk;
      if (live) stream.write(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', (chunk) => take(process.stdout, chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk) => take(process.stderr, chunk));
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, GROUP_TIMEOUT_MS);
    let finished = false;
    const finish = (failure) => {
      if (finished) return; // 'error' (it could not start) may be followed by 'close'
      finished = true;
      clearTimeout(deadline);
      running.delete(child);
      if (!live) process.stdout.write(output);
      resolve({ name, seconds: (Date.now() - started) / 1000, output, failure });
    };
    child.on('error', (error) => finish(`${command} could not start: ${error.message}`));
    child.on('close', (code, signal) =>
      finish(timedOut ? `killed after its deadline, ${GROUP_TIMEOUT_MS} ms` : code === 0 ? null : `exit ${code ?? signal}`),
    );
  });
}

/** The totals node:test prints at the end (TAP `# pass 12`, spec `ℹ pass 12`). */
function counts(output) {
  const totals = {};
  for (const match of output.matchAll(/^(?:# |ℹ )(tests|pass|fail|cancelled|skipped|todo) (\d+)\s*$/gm))
    totals[match[1]] = Number(match[2]);
  return totals;
}

/** `npm run lint`, its output kept for when the lane it runs in ends. */
const lint = () => step('lint', process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'lint'], false);
const withLint = process.argv.includes('--lint');

const started = Date.now();
const groups = serial
  ? [...(withLint ? [await lint()] : []), await run('all files', main, true)]
  : [
      ...(
        await Promise.all([
          run('main stream', main, true).then((group) => [group]),
          (async () => [...(withLint ? [await lint()] : []), await run('waiting lane (beside the main stream)', WAITING, false)])(),
        ])
      ).flat(),
      await run('alone', ALONE, true),
    ];
console.log('\n# test groups');
for (const group of groups) {
  // A test run says what it ran; the lint only how long it took.
  const tally =
    group.counts === undefined
      ? ''
      : `${group.files} files, ${group.counts.tests ?? 0} tests, ${group.counts.pass ?? 0} pass, ${group.counts.fail ?? 0} fail, ${group.counts.skipped ?? 0} skipped, `;
  console.log(`# ${group.name}: ${tally}${group.seconds.toFixed(0)} s${group.failure === null ? '' : ` — FAILED (${group.failure})`}`);
}
const total = (key) => groups.reduce((sum, group) => sum + (group.counts?.[key] ?? 0), 0);
console.log(
  `# all: ${total('tests')} tests, ${total('pass')} pass, ${total('fail')} fail, ${((Date.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(groups.every((group) => group.failure === null) ? 0 : 1);
