/**
 * The `shardlearn` command. Each subcommand is its own file; this one dispatches, answers `--help`,
 * `--version` and `--quiet` for every command, and turns errors into one line and an exit code
 * (see failure.ts).
 */
import '../index.js';
import { ConfigError } from '../core/errors.js';
import { followLauncher } from '../runtime/launcher-link.js';
import { parseArgs, takeSwitch } from './args.js';
import { EXIT, describeFailure, exitCodeFor } from './failure.js';
import { commandHelp, commandNames, overview } from './help.js';
import { createOutput } from './output.js';
import { compareCommand, reportCommand, runsCommand } from './compare.js';
import { adviseCommand } from './advise.js';
import { infoCommand } from './info.js';
import { federatedClientCommand } from './federated-client.js';
import { launchCommand } from './launch.js';
import { predictCommand } from './predict.js';
import { trainCommand } from './train.js';
import { tuneCommand } from './tune.js';
import { packageVersion } from './version.js';

export async function main(argv: readonly string[], write: (line: string) => void = (line) => console.log(line)): Promise<number> {
  followLauncher(); // a rank started by `shardlearn launch` stops when the launcher dies, even while loading data
  try {
    const args = parseArgs(argv);
    const command = args.positionals.shift();
    if (takeSwitch(args, 'version')) {
      write(`shardlearn ${packageVersion()}`);
      return EXIT.ok;
    }
    if (command === undefined || command === 'help') {
      const topic = args.positionals[0];
      write(topic === undefined ? overview() : commandHelp(topic, args.positionals[1]));
      return command === undefined && !takeSwitch(args, 'help') ? EXIT.usage : EXIT.ok;
    }
    if (takeSwitch(args, 'help')) {
      if (!commandNames().includes(command)) throw unknownCommand(command);
      const model =
        command === 'train' ? args.positionals[0] : command === 'advise' ? (args.flags.get('model') ?? args.positionals[0]) : undefined;
      write(commandHelp(command, model === true ? undefined : model));
      return EXIT.ok;
    }
    const out = createOutput(write, takeSwitch(args, 'quiet'));
    switch (command) {
      case 'train':
        await trainCommand(args, out);
        return EXIT.ok;
      case 'tune':
        await tuneCommand(args, out);
        return EXIT.ok;
      case 'predict':
        await predictCommand(args, out);
        return EXIT.ok;
      case 'compare':
        await compareCommand(args, out);
        return EXIT.ok;
      case 'runs':
        await runsCommand(args, out);
        return EXIT.ok;
      case 'report':
        await reportCommand(args, out);
        return EXIT.ok;
      case 'advise':
        await adviseCommand(args, out);
        return EXIT.ok;
      case 'launch':
        return await launchCommand(args);
      case 'federated-client':
        await federatedClientCommand(args, out);
        return EXIT.ok;
      case 'info':
        infoCommand(args, out);
        return EXIT.ok;
      default:
        throw unknownCommand(command);
    }
  } catch (error: unknown) {
    console.error(describeFailure(error));
    return exitCodeFor(error);
  }
}

function unknownCommand(command: string): ConfigError {
  return new ConfigError(`unknown command '${command}'; expected one of ${commandNames().join(', ')} (see shardlearn --help)`, {
    field: 'command',
  });
}
