/**
 * The `shardlearn` command. Each subcommand is its own file; this one dispatches and turns errors
 * into one line and an exit code (see failure.ts).
 */
import '../index.js';
import { ConfigError } from '../core/errors.js';
import { modelNames } from '../models/index.js';
import { parseArgs, takeSwitch } from './args.js';
import { EXIT, describeFailure, exitCodeFor } from './failure.js';
import { compareCommand, reportCommand, runsCommand } from './compare.js';
import { adviseCommand } from './advise.js';
import { infoCommand } from './info.js';
import { launchCommand } from './launch.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';
import { tuneCommand } from './tune.js';

const USAGE = `usage: shardlearn <command> [options]

commands:
  compare                 run the same training in every paradigm, store results, write a report:
                          [--quick] [--matrix file.json] [--models a,b] [--paradigms …] [--workers 1,2]
                          [--strategies allreduce,hogwild] [--repeats N] [--rows N] [--networks loopback,wan:5ms:100mbit,lan:tbf:1000mbit]
                          [--db file] [--report file]
  train <model>           train one model: --data <file|builtin:mnist|synthetic:…> [--paradigm sequential|threads]
                          [--workers N] [--strategy allreduce|hogwild] [--pipeline 8:1f1b[:replicas=2]] [--target col] [--standardize]
                          [--eval test|train] [--out model.json] [--json] [model options, e.g. --k 3 --max-iter 20]
  tune <model>            search hyperparameters by cross-validation: --data <spec> --space space.json [--searcher grid|random|tpe|sha|asha|hyperband]
                          [--trials N] [--cv K] [--stratified] [--metric accuracy|f1|r2|neg-mse] [--preprocess standardize,kbest:f:5]
                          [--resource epochs:1:27] [--objectives score,fitSeconds] [--concurrency W] [--paradigm threads --workers N]
                          [--study name [--db file]] (stored, resumable) [--report study.html] [--json]
  predict                 apply a saved model: --model model.json --data <spec> [--out predictions.csv]
  runs                    list or export stored comparison runs: [--db file] [--format table|csv|json]
  report                  re-render the report of a stored comparison: [--db file] [--report file] [--session id]
  advise                  predict the fastest paradigm and worker count, with its reasoning: --model <name> --rows N --cols D
                          [--workers 2,4,8] [--paradigms …] [--bandwidth 1Gbit] [--latency-ms 0.5] [--cores N] [--db file] [--json]
  launch                  start N local ranks of a cluster job (MASTER_ADDR, MASTER_PORT, WORLD_SIZE, RANK, LOCAL_RANK set):
                          --workers N [--master-port P] [--secret-file F] -- train <model> --paradigm cluster …
  info                    models, paradigms, strategies, kernel backends and this machine

models: ${'MODELS'}
Run 'shardlearn <command> --help' for a command's options; the README documents every flag.`;

export async function main(argv: readonly string[], write: (line: string) => void = (line) => console.log(line)): Promise<number> {
  try {
    const args = parseArgs(argv);
    const command = args.positionals.shift();
    if (command === undefined || command === 'help' || (command !== undefined && args.flags.get('help') === true)) {
      write(USAGE.replace('MODELS', modelNames().join(', ')));
      return command === undefined ? EXIT.usage : EXIT.ok;
    }
    switch (command) {
      case 'train':
        await trainCommand(args, write);
        return EXIT.ok;
      case 'tune':
        await tuneCommand(args, write);
        return EXIT.ok;
      case 'predict':
        await predictCommand(args, write);
        return EXIT.ok;
      case 'compare':
        await compareCommand(args, write);
        return EXIT.ok;
      case 'runs':
        await runsCommand(args, write);
        return EXIT.ok;
      case 'report':
        await reportCommand(args, write);
        return EXIT.ok;
      case 'advise':
        await adviseCommand(args, write);
        return EXIT.ok;
      case 'launch':
        return await launchCommand(args);
      case 'info':
        infoCommand(write, takeSwitch(args, 'json'));
        return EXIT.ok;
      default:
        throw new ConfigError(`unknown command '${command}'; expected compare, train, tune, predict, runs, report, launch, advise or info`);
    }
  } catch (error: unknown) {
    console.error(describeFailure(error));
    return exitCodeFor(error);
  }
}
