/**
 * The `horde` command. Sub-commands are added as each capability lands; every one answers `--help`.
 */
import { version } from '../../package.json';

/*
 * Sub-commands are loaded when chosen, not up front: an executor is spawned per job, and loading every role's stack
 * (crypto, SQLite, ...) at each start would add about a second to its spin-up. `require` rather than `import()`
 * because a development checkout runs through tsx's CommonJS hook, which dynamic `import()` would bypass.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const load = {
  demo: () => require('./demo') as typeof import('./demo'),
  executor: () => require('./executor') as typeof import('./executor'),
  facilitator: () => require('./facilitator') as typeof import('./facilitator'),
  job: () => require('./job') as typeof import('./job'),
  keys: () => require('./keys') as typeof import('./keys'),
  miner: () => require('./miner') as typeof import('./miner'),
  up: () => require('./up') as typeof import('./up'),
  validator: () => require('./validator') as typeof import('./validator'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

interface Command {
  readonly summary: string;
  run(args: readonly string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  demo: { summary: 'run one real job through a local miner and executor', run: (args) => load.demo().demoCommand(args) },
  executor: { summary: 'run one job for a miner (one-shot)', run: (args) => load.executor().executorCommand(args) },
  job: { summary: 'submit a job and print its output (job run --image IMG -- CMD...)', run: (args) => load.job().jobCommand(args) },
  facilitator: {
    summary: 'serve the REST API and the validators\' WebSocket hub',
    run: (args) => load.facilitator().facilitatorCommand(args),
  },
  keys: { summary: 'manage sr25519 hotkeys (keys new)', run: (args) => load.keys().keys(args) },
  miner: { summary: 'serve validators and run their jobs on executors', run: (args) => load.miner().minerCommand(args) },
  validator: {
    summary: 'take jobs from the facilitator and drive them on miners',
    run: (args) => load.validator().validatorCommand(args),
  },
  up: { summary: 'start a local facilitator, validator and miner until Ctrl-C', run: (args) => load.up().upCommand(args) },
  version: {
    summary: 'print the version',
    run: () => {
      process.stdout.write(`horde ${version}\n`);
      return Promise.resolve(0);
    },
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: horde <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'horde <command> --help' for a command's options.\n`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return 0;
  }
  if (name === '--version') return commands.version!.run([]);
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`horde: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

/** Runs the command line of this process and sets its exit code (the `bin/horde.js` entry point calls this). */
export function runCli(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`horde: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

if (require.main === module) runCli();
