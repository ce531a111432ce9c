// Cross-silo federated learning (runtime/federated-remote.ts, `--client-data hosts`): each client host
// is a `federated-client` process over loopback TCP with CURVE that loads its own CSV; the server
// never receives or sends a row, refuses a host whose columns differ (naming it), and trains the same
// model, bitwise, as a simulation on the hosts' files concatenated with the 'contiguous' partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../src/index.js';
import type { Message } from '../../src/comm/communicator.js';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { loadData } from '../../src/data/index.js';
import { createModel } from '../../src/models/registry.js';
import type { AnyEstimator } from '../../src/models/registry.js';
import { SiloMismatchError } from '../../src/runtime/federated-remote.js';
import { freePort } from '../../src/runtime/launch.js';
import { staticRendezvous } from '../../src/runtime/rendezvous.js';
import { runWatching, withDir } from '../cli/bin.js';
import type { Result } from '../cli/bin.js';

const SECRET = 'federated-silo-test-secret-0123456789abcdef';
const JOB = 'federated-silo-test';
const logistic = { solver: 'sgd', epochs: 1, batchSize: 10, lr: 0.1, seed: 1 };
const rounds = { fraction: 1, rounds: 3, seed: 5, localEpochs: 2 };

const paramsOf = (model: AnyEstimator): number[] => {
  const { weights, intercepts } = model.state as { weights: Float64Array; intercepts: Float64Array };
  return [...weights, ...intercepts];
};

/** Seeded rows of a logistic problem: `cols` features in (−2, 2) with many digits, label 1 when w·x > 0. */
function rowsOf(rng: Rng, rows: number, cols: number): string[] {
  return Array.from({ length: rows }, () => {
    const x = Array.from({ length: cols }, () => rng.uniform() * 4 - 2);
    const y = x.reduce((sum, v, j) => sum + v * (j % 2 === 0 ? 1 : -0.5), 0) > 0 ? 1 : 0;
    return [...x.map((v) => v.toPrecision(17)), String(y)].join(',');
  });
}

function csv(path: string, cols: number, rows: string[]): string {
  const header = [...Array.from({ length: cols }, (_, j) => `f${j}`), 'y'].join(',');
  writeFileSync(path, [header, ...rows].join('\n') + '\n');
  return path;
}

function clientHost(port: number, rank: number, worldSize: number, extra: string[]): Promise<Result> {
  return runWatching(
    ['federated-client', '--master', `127.0.0.1:${port}`, '--world-size', String(worldSize), '--rank', String(rank), ...extra],
    () => undefined,
    { env: { ...process.env, SHARDLEARN_SECRET: SECRET, SHARDLEARN_JOB_ID: JOB }, timeoutMs: 60_000 },
  );
}

async function withSecret<T>(body: () => Promise<T>): Promise<T> {
  const previous = process.env['SHARDLEARN_SECRET'];
  process.env['SHARDLEARN_SECRET'] = SECRET; // the server's readSecret
  try {
    return await body();
  } finally {
    if (previous === undefined) delete process.env['SHARDLEARN_SECRET'];
    else process.env['SHARDLEARN_SECRET'] = previous;
  }
}

const rendezvous = (port: number, worldSize: number) =>
  staticRendezvous({
    MASTER_ADDR: '127.0.0.1',
    MASTER_PORT: String(port),
    WORLD_SIZE: String(worldSize),
    RANK: '0',
    SHARDLEARN_JOB_ID: JOB,
  });

test('cross-silo: two federated-client processes, each with its own CSV, train a logistic regression by FedAvg; no row reaches the server; the model is the simulation’s on the files concatenated, bitwise', () =>
  withDir(async (dir) => {
    const rng = new Rng(11);
    const one = rowsOf(rng, 60, 3);
    const two = rowsOf(rng, 60, 3);
    const fileOne = csv(join(dir, 'silo1.csv'), 3, one);
    const fileTwo = csv(join(dir, 'silo2.csv'), 3, two);
    const serverFile = csv(join(dir, 'server.csv'), 3, rowsOf(rng, 40, 3));
    const concatenated = csv(join(dir, 'all.csv'), 3, [...one, ...two]);

    // The simulation: the hosts' rows concatenated in rank order, 2 clients per host as contiguous runs.
    const all = (await loadData(concatenated, { target: 'y' })).train;
    const reference = await createModel('logistic-regression', logistic).fit(all, {
      paradigm: 'federated',
      federated: { ...rounds, clients: 4, partition: 'contiguous', placement: 'inline' },
    });

    const evaluation = (await loadData(serverFile, { target: 'y' })).train;
    const received: { client: number; message: Message }[] = [];
    const port = await freePort();
    const model = await withSecret(async () => {
      const fit = createModel('logistic-regression', logistic).fit(evaluation, {
        paradigm: 'federated',
        timeoutMs: 60_000,
        rendezvous: rendezvous(port, 3),
        federated: {
          ...rounds,
          placement: 'hosts',
          clientData: 'hosts',
          onServerReceive: (client, message) => received.push({ client, message }),
          evaluation: { data: evaluation },
        },
      });
      fit.catch(() => undefined);
      const hosts = await Promise.all([
        clientHost(port, 1, 3, ['--data', fileOne, '--target', 'y', '--clients-per-host', '2']),
        clientHost(port, 2, 3, ['--data', fileTwo, '--target', 'y', '--clients-per-host', '2']),
      ]);
      for (const host of hosts) assert.equal(host.status, 0, host.stderr);
      assert.match(hosts[1]!.stdout, /60 rows of its own as clients 2, 3/);
      return fit;
    });

    assert.deepEqual(paramsOf(model), paramsOf(reference), 'same client rows and ids: the same model, bitwise');
    const info = model.fitInfo!.federated!;
    assert.equal(info.clients, 4, "the clients are the hosts' (2 per host)");
    assert.equal(info.partition, 'contiguous');
    assert.deepEqual(model.fitInfo!.rows, [120]);
    assert.ok(info.history.at(-1)!.score! > 0.8, `evaluated on the server's own data: ${info.history.at(-1)!.score}`);

    // What the server process received: two hellos with no payload, then updates of the model's size.
    const parameters = paramsOf(model).length;
    const hellos = received.filter(({ message }) => message.tag === 'client-hello');
    assert.deepEqual(
      hellos.map(({ client }) => client),
      [-1, -2],
      'one hello per host, as client −rank',
    );
    for (const { message } of hellos) {
      assert.equal((message.arrays ?? []).length + (message.bytes ?? []).length, 0, 'a hello carries no rows');
      assert.deepEqual((message.header as { clientRows: number[] }).clientRows, [30, 30]);
    }
    const updates = received.filter(({ message }) => message.tag === 'update');
    assert.equal(updates.length, 4 * rounds.rounds);
    assert.equal(received.length, hellos.length + updates.length, received.map(({ message }) => message.tag).join());
    // No received array carries a feature value of any host's rows (17-digit random doubles).
    const features = new Set([...one, ...two].flatMap((row) => row.split(',').slice(0, 3).map(Number)));
    for (const { message } of updates) {
      assert.equal(message.arrays!.length, 1);
      assert.equal(message.arrays![0]!.length, parameters);
      for (const value of message.arrays![0]!) assert.ok(!features.has(value), `an update holds a row's feature value ${value}`);
    }
  }));

test('cross-silo: a host whose file has another column count is refused, the error naming the host and the field', () =>
  withDir(async (dir) => {
    const rng = new Rng(12);
    const serverFile = csv(join(dir, 'server.csv'), 3, rowsOf(rng, 20, 3));
    const good = csv(join(dir, 'good.csv'), 3, rowsOf(rng, 20, 3));
    const wide = csv(join(dir, 'wide.csv'), 4, rowsOf(rng, 20, 4));
    const port = await freePort();
    await withSecret(async () => {
      const fit = createModel('logistic-regression', logistic).fit((await loadData(serverFile, { target: 'y' })).train, {
        paradigm: 'federated',
        timeoutMs: 30_000,
        rendezvous: rendezvous(port, 3),
        federated: { ...rounds, placement: 'hosts', clientData: 'hosts' },
      });
      fit.catch(() => undefined);
      const hosts = await Promise.all([
        clientHost(port, 1, 3, ['--data', good, '--target', 'y']),
        clientHost(port, 2, 3, ['--data', wide, '--target', 'y']),
      ]);
      await assert.rejects(fit, (error: unknown) => {
        assert.ok(error instanceof SiloMismatchError, String(error));
        assert.equal(error.rank, 2);
        assert.equal(error.field, 'cols');
        assert.equal(error.code, 'DATA_FORMAT');
        assert.match(error.message, /rank 2: its data has 4 feature columns, the server's has 3/);
        return true;
      });
      for (const host of hosts) {
        assert.notEqual(host.status, 0, 'the server told every host why it stopped');
        assert.match(host.stderr, /refused this host: client host rank 2: its data has 4 feature columns/, host.stderr);
      }
    });
  }));

test('cross-silo: a host without its own data is refused by name; --client-data hosts needs --clients-on hosts and takes neither --clients that differ nor --partition', () =>
  withDir(async (dir) => {
    const serverData = (await loadData(csv(join(dir, 'server.csv'), 3, rowsOf(new Rng(13), 20, 3)), { target: 'y' })).train;
    const fit = (federated: Record<string, unknown>, port = 0) =>
      createModel('logistic-regression', logistic).fit(serverData, {
        paradigm: 'federated',
        timeoutMs: 30_000,
        ...(port === 0 ? {} : { rendezvous: rendezvous(port, 2) }),
        federated: { ...rounds, clientData: 'hosts', ...federated },
      });
    await assert.rejects(fit({ placement: 'threads' }), (error: unknown) => error instanceof ConfigError && error.field === 'client-data');
    await assert.rejects(
      fit({ placement: 'hosts', partition: 'iid' }),
      (error: unknown) => error instanceof ConfigError && error.field === 'partition',
    );
    const port = await freePort();
    await withSecret(async () => {
      const server = fit({ placement: 'hosts' }, port);
      server.catch(() => undefined);
      const host = await clientHost(port, 1, 2, []);
      await assert.rejects(server, (error: unknown) => {
        assert.ok(error instanceof ConfigError, String(error));
        assert.equal(error.field, 'client-data');
        assert.match(error.message, /client host rank 1: it has no data of its own/);
        return true;
      });
      assert.notEqual(host.status, 0);
      assert.match(host.stderr, /no data of its own/, host.stderr);
    });
  }));
