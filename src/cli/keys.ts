/**
 * `horde keys ...`: hotkey management for operators and for the local cluster.
 */
import { resolve } from 'node:path';
import { ConfigError, defineSettings, loadConfig, setting } from '../config';
import { devHotkey, generateHotkey, initCrypto, saveKeyFile } from '../crypto';
import { HordeError } from '../util/errors';

import { processIo, type CommandIo } from './io';

export type { CommandIo } from './io';


/** Key name used when `--name` is not given. */
export const DEFAULT_KEY_NAME = 'hotkey';

export const keysNewSettings = defineSettings({
  name: setting.string({
    doc: 'Name of the key. The file is <name>.json unless --out is given; with --dev the key is derived as //<name>.',
    default: DEFAULT_KEY_NAME,
    validate: (name) => (/^[A-Za-z0-9._-]+$/.test(name) ? undefined : 'use letters, digits, ".", "_" or "-" only'),
  }),
  out: setting.string({ doc: 'Key file to write (created with mode 0600, parent directories too).', optional: true }),
  dev: setting.boolean({
    doc:
      'Derive a deterministic development key //<name> from the public Substrate dev phrase instead of a random ' +
      'one. Anyone can recompute it: for a local cluster only.',
    default: false,
  }),
  force: setting.boolean({ doc: 'Replace an existing key file (the old key is lost).', default: false }),
});

/**
 * `horde keys new [--name NAME] [--out FILE] [--dev] [--force]`: creates a hotkey, writes it as a key file (mode
 * 0600, bittensor's hotkey format) and prints its SS58 address on stdout. Returns the exit code: 0 done, 1 the key
 * could not be written (the file exists, no permission), 2 bad usage.
 *
 * @example
 * ```ts
 * await keysNew(['--name', 'miner-1', '--out', 'keys/miner-1.json']); // prints 5F...
 * ```
 */
export async function keysNew(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  let outcome;
  try {
    outcome = loadConfig(keysNewSettings, {
      argv: args,
      env: io.env,
      command: 'horde keys new',
      summary:
        'Creates an sr25519 hotkey (random 12-word mnemonic, or --dev for a deterministic development key), writes ' +
        'it as a key file and prints its SS58 address.',
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`horde keys new: ${error.message}\nRun 'horde keys new --help' for the options.\n`);
      return 2;
    }
    throw error;
  }
  if (outcome.kind === 'help') {
    io.stdout(outcome.text);
    return 0;
  }
  const { name, out, dev, force } = outcome.config;
  const path = resolve(io.cwd, out ?? `${name}.json`);
  try {
    await initCrypto();
    const hotkey = dev ? devHotkey(name) : generateHotkey();
    await saveKeyFile(path, hotkey, { overwrite: force });
    io.stdout(`${hotkey.ss58}\n`);
    io.stderr(`wrote ${dev ? 'development ' : ''}key ${name} to ${path} (mode 0600)\n`);
    return 0;
  } catch (error) {
    if (error instanceof HordeError || isSystemError(error)) {
      io.stderr(`horde keys new: ${(error as Error).message}\n`);
      return 1;
    }
    throw error;
  }
}

function isSystemError(error: unknown): boolean {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

/**
 * `horde keys <sub-command>`: dispatches to `keysNew` (the only one so far).
 *
 * @example
 * ```ts
 * commands.keys = { summary: 'manage hotkeys', run: (args) => keys(args) };
 * ```
 */
export async function keys(args: readonly string[], io: CommandIo = processIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'new') return keysNew(rest, io);
  const usage = 'usage: horde keys new [--name NAME] [--out FILE] [--dev] [--force]\n';
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(usage);
    return 0;
  }
  io.stderr(`horde keys: unknown sub-command '${sub}'\n${usage}`);
  return 2;
}
