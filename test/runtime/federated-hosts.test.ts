// Federated client hosts on other machines (runtime/federated-remote.ts, `shardlearn federated-client`):
// the server is rank 0 of a ZeroMQ world over TCP with CURVE, each client host a `federated-client`
// process that joins with the job secret. Over loopback here (a wrong secret refused), and across two
// network namespaces when root and iproute2 allow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import '../../src/index.js';
import { staticRendezvous } from '../../src/runtime/rendezvous.js';
import { freePort } from '../../src/runtime/launch.js';
import { NamespaceNetwork, namespacesUnavailable } from '../../src/runtime/netns.js';
import type { FederatedOptions } from '../../src/federated/settings.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { bin, runWatching } from '../cli/bin.js';
import type { Result } from '../cli/bin.js';
import { spawn } from 'node:child_process';
import { caseData } from './model-cases.js';

const SECRET = 'federated-hosts-test-secret-0123456789abcdef';
const train = caseData('multiclass', 1000);
const mlp = { hidden: [32], epochs: 1, batchSize: 32, precision: 'float64', seed: 1 };
const federated: FederatedOptions = { clients: 10, fraction: 1, rounds: 2, dropout: 0.3, seed: 3, secureAggregation: true };

const paramsOf = (model: AnyEstimator): number[] => [...(model.state as { params: Float64Array }).params];

function clientHost(port: number, rank: number, secret: string, extra: string[] = []): Promise<Result> {
  return runWatching(
    ['federated-client', '--master', `127.0.0.1:${port}`, '--world-size', '3', '--rank', String(rank), ...extra],
    () => undefined,
    {
      env: { ...process.env, SHARDLEARN_SECRET: secret, SHARDLEARN_JOB_ID: 'federated-hosts-test' },
      timeoutMs: 60_000,
    },
  );
}

test('client hosts over loopback TCP with CURVE: a wrong secret is refused; two federated-client processes give the processes placement’s model bitwise, with secure aggregation and 30% dropout', async () => {
  const reference = await createModel('mlp', mlp).fit(train, {
    paradigm: 'federated',
    federated: { ...federated, placement: 'processes', workers: 2 },
  });
  const port = await freePort();
  const previous = process.env['SHARDLEARN_SECRET'];
  process.env['SHARDLEARN_SECRET'] = SECRET; // the server's readSecret
  try {
    const rendezvous = staticRendezvous({
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: String(port),
      WORLD_SIZE: '3',
      RANK: '0',
      SHARDLEARN_JOB_ID: 'federated-hosts-test',
    });
    const fit = createModel('mlp', mlp).fit(train, {
      paradigm: 'federated',
      timeoutMs: 60_000,
      rendezvous,
      federated: { ...federated, placement: 'hosts' },
    });
    fit.catch(() => undefined);
    const intruder = await clientHost(port, 1, 'not-the-job-secret-0123456789abcdef', ['--timeout-ms', '10000']);
    assert.notEqual(intruder.status, 0, 'a host with the wrong secret must not join');
    assert.match(intruder.stderr, /secret/i, intruder.stderr);
    const hosts = await Promise.all([clientHost(port, 1, SECRET), clientHost(port, 2, SECRET)]);
    const model = await fit;
    for (const host of hosts) assert.equal(host.status, 0, host.stderr);
    assert.match(hosts[0]!.stdout, /hosting clients 0, 2, 4, 6, 8/);
    assert.deepEqual(paramsOf(model), paramsOf(reference));
    const info = model.fitInfo!.federated!;
    assert.equal(info.placement, 'hosts');
    assert.equal(model.fitInfo!.workers, 2, 'two client hosts');
    assert.deepEqual(
      info.history.map((r) => r.participants),
      reference.fitInfo!.federated!.history.map((r) => r.participants),
    );
  } finally {
    if (previous === undefined) delete process.env['SHARDLEARN_SECRET'];
    else process.env['SHARDLEARN_SECRET'] = previous;
  }
});

const reason = namespacesUnavailable();

test(
  'a server and a client host in two network namespaces: the CLI fit completes with secure aggregation, its bytes cross the link',
  { skip: reason ?? false },
  async () => {
    const net = NamespaceNetwork.create({ hosts: 2, rateMbit: 200 });
    try {
      const server = net.hosts[0]!;
      const env = {
        ...process.env,
        SHARDLEARN_SECRET: SECRET,
        SHARDLEARN_JOB_ID: 'federated-netns',
        MASTER_ADDR: server.address,
        MASTER_PORT: '29613',
        WORLD_SIZE: '2',
      };
      const command = [
        'train',
        'logistic-regression',
        '--solver',
        'sgd',
        '--data',
        'synthetic:classification?rows=1200&cols=5&seed=4',
        '--paradigm',
        'federated',
        '--clients',
        '6',
        '--fraction',
        '1',
        '--rounds',
        '3',
        '--secure-aggregation',
        '--json',
      ];
      const before = [net.bytesSent(0), net.bytesSent(1)];
      const started = (host: number, argv: string[], rank: number): Promise<Result> =>
        new Promise((resolve) => {
          const child = spawn('ip', net.exec(host, [process.execPath, bin, ...argv]), {
            env: { ...env, RANK: String(rank) },
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
          child.once('exit', (status) => {
            clearTimeout(timer);
            resolve({ status, stdout, stderr });
          });
        });
      const [trained, hosted] = await Promise.all([
        started(0, [...command, '--clients-on', 'hosts'], 0),
        started(1, ['federated-client', '--master', `${server.address}:29613`], 1),
      ]);
      assert.equal(trained.status, 0, trained.stderr);
      assert.equal(hosted.status, 0, hosted.stderr);
      const report = JSON.parse(trained.stdout) as { federated: { rounds: number; bytesUp: number; bytesDown: number } };
      assert.equal(report.federated.rounds, 3);
      const crossed = [net.bytesSent(0) - before[0]!, net.bytesSent(1) - before[1]!];
      assert.ok(
        crossed[1]! >= report.federated.bytesUp,
        `the client host sent ${crossed[1]} bytes on its link; the protocol's ${report.federated.bytesUp}`,
      );
      assert.ok(
        crossed[0]! >= report.federated.bytesDown,
        `the server sent ${crossed[0]} bytes on its link; the protocol's ${report.federated.bytesDown}`,
      );
      console.log(
        `netns: server sent ${crossed[0]} B on its veth, client host ${crossed[1]} B; reported up ${report.federated.bytesUp}, down ${report.federated.bytesDown}`,
      );
    } finally {
      net.close();
    }
  },
);
