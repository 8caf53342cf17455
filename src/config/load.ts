/**
 * Loads a role's configuration with the precedence flags > environment > config file > defaults, collecting every
 * problem into one `ConfigError`.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors';
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, FLAG_SUGGESTION_MAX_DISTANCE, HELP_FLAG, REDACTED_VALUE } from './defaults';
import { helpText, type HelpOptions } from './help';
import { flagOf, type ConfigOf, type Parsed, type SettingDef, type SettingDefs } from './settings';

/** Where a setting's value came from. */
export type Source = 'flag' | 'env' | 'file' | 'default' | 'unset';

export interface LoadOptions extends HelpOptions {
  /** Command-line arguments after the sub-command (`process.argv.slice(3)` for `horde miner ...`). */
  readonly argv: readonly string[];
  /** Environment to read (`process.env`); tests pass a literal object. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads a config file; injectable for tests. @default fs.readFileSync(path, 'utf8') */
  readonly readFile?: (path: string) => string;
  /** Whether bare arguments are accepted (returned as `positionals`). @default false */
  readonly allowPositionals?: boolean;
}

/** A loaded configuration, or the help text when `--help`/`-h` was given. */
export type LoadOutcome<S extends SettingDefs> =
  | {
      readonly kind: 'config';
      readonly config: ConfigOf<S>;
      readonly sources: { readonly [K in keyof S]: Source };
      readonly positionals: readonly string[];
      /** The config file that was read, if any. */
      readonly configFile: string | undefined;
    }
  | { readonly kind: 'help'; readonly text: string };

interface FlagValue {
  readonly flag: string;
  readonly text: string;
}

/**
 * Loads `defs` from flags, environment and an optional JSON config file (`--config FILE` or `HORDE_CONFIG`). Throws
 * `ConfigError` listing every problem (unknown flags, bad values, missing required settings, unknown file keys);
 * returns `{ kind: 'help' }` when help was asked for, before looking at anything else.
 *
 * @example
 * ```ts
 * const outcome = loadConfig(minerSettings, { argv, env: process.env, command: 'horde miner' });
 * if (outcome.kind === 'help') return print(outcome.text);
 * outcome.config.port; // number
 * ```
 */
export function loadConfig<S extends SettingDefs>(defs: S, options: LoadOptions): LoadOutcome<S> {
  if (options.argv.some((arg) => arg === `--${HELP_FLAG}` || arg === '-h')) {
    return { kind: 'help', text: helpText(defs, options) };
  }
  const problems: string[] = [];
  const byFlag = new Map<string, [string, SettingDef<unknown>]>();
  for (const [key, def] of Object.entries(defs)) byFlag.set(flagOf(key, def), [key, def]);

  const { flagValues, positionals, configFlag } = parseArgv(options.argv, byFlag, problems);
  if (positionals.length > 0 && options.allowPositionals !== true) {
    problems.push(`unexpected argument${positionals.length > 1 ? 's' : ''}: ${positionals.join(' ')}`);
  }

  const configFile = configFlag ?? nonEmpty(options.env[CONFIG_FILE_ENV]);
  const fileValues = configFile === undefined ? {} : readConfigFile(configFile, defs, options, problems);

  const config: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  for (const [key, def] of Object.entries(defs)) {
    const flag = flagOf(key, def);
    const fromFlags = flagValues.get(key);
    const fromEnv = def.env === undefined ? undefined : nonEmpty(options.env[def.env]);
    let parsed: Parsed<unknown> | undefined;
    let where: string;
    if (fromFlags !== undefined) {
      sources[key] = 'flag';
      where = `--${flag}`;
      parsed = def.isList ? joinLists(fromFlags.map((value) => def.parseText(value.text))) : def.parseText(fromFlags.at(-1)!.text);
      if (!def.isList && fromFlags.length > 1) problems.push(`--${flag}: given ${fromFlags.length} times`);
    } else if (fromEnv !== undefined) {
      sources[key] = 'env';
      where = `${def.env!}`;
      parsed = def.parseText(fromEnv);
    } else if (Object.hasOwn(fileValues, key)) {
      sources[key] = 'file';
      where = `${configFile!}: ${key}`;
      parsed = def.parseJson(fileValues[key]);
    } else if (def.hasDefault) {
      sources[key] = 'default';
      config[key] = def.defaultValue;
      continue;
    } else if (def.optional) {
      sources[key] = 'unset';
      config[key] = undefined;
      continue;
    } else {
      sources[key] = 'unset';
      const ways = [`--${flag}`, ...(def.env === undefined ? [] : [def.env]), `"${key}" in a config file`];
      problems.push(`${key} is required: set ${ways.join(', or ')}`);
      continue;
    }
    if (!parsed.ok) {
      const shown = def.secret ? REDACTED_VALUE : JSON.stringify(rawOf(sources[key], fromFlags, fromEnv, fileValues[key]));
      problems.push(`${where}: expected ${parsed.expected}, got ${shown}`);
      continue;
    }
    const invalid = def.validate?.(parsed.value);
    if (invalid !== undefined) {
      problems.push(`${where}: ${invalid}`);
      continue;
    }
    config[key] = parsed.value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    kind: 'config',
    config: config as ConfigOf<S>,
    sources: sources as { [K in keyof S]: Source },
    positionals,
    configFile,
  };
}

function rawOf(source: Source | undefined, flags: readonly FlagValue[] | undefined, env: string | undefined, file: unknown): unknown {
  if (source === 'flag') return flags?.at(-1)?.text;
  if (source === 'env') return env;
  return file;
}

function joinLists(parts: ReadonlyArray<Parsed<unknown>>): Parsed<unknown> {
  const values: unknown[] = [];
  for (const part of parts) {
    if (!part.ok) return part;
    values.push(...(part.value as unknown[]));
  }
  return { ok: true, value: values };
}

function nonEmpty(value: string | undefined): string | undefined {
  // an exported-but-empty variable (`HORDE_X=`) means "not set", as most tools read it
  return value === undefined || value === '' ? undefined : value;
}

function parseArgv(
  argv: readonly string[],
  byFlag: ReadonlyMap<string, [string, SettingDef<unknown>]>,
  problems: string[],
): { flagValues: Map<string, FlagValue[]>; positionals: string[]; configFlag: string | undefined } {
  const flagValues = new Map<string, FlagValue[]>();
  const positionals: string[] = [];
  let configFlag: string | undefined;
  const push = (key: string, flag: string, text: string) => {
    const list = flagValues.get(key) ?? [];
    list.push({ flag, text });
    flagValues.set(key, list);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg.length > 1) problems.push(`unknown option ${arg} (options are spelled --name)`);
      else positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const inline = equals < 0 ? undefined : arg.slice(equals + 1);
    const takeValue = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) {
        problems.push(`--${name}: needs a value`);
        return undefined;
      }
      i++;
      return next;
    };
    if (name === CONFIG_FILE_FLAG) {
      configFlag = takeValue() ?? configFlag;
      continue;
    }
    const entry = byFlag.get(name);
    if (entry !== undefined) {
      const [key, def] = entry;
      if (def.isBoolean) push(key, name, inline ?? 'true');
      else {
        const value = takeValue();
        if (value !== undefined) push(key, name, value);
      }
      continue;
    }
    const negated = name.startsWith('no-') ? byFlag.get(name.slice(3)) : undefined;
    if (negated !== undefined && negated[1].isBoolean && inline === undefined) {
      push(negated[0], name, 'false');
      continue;
    }
    // an unknown flag's value would otherwise surface as a second, confusing "unexpected argument" problem
    if (inline === undefined && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) i++;
    const suggestion = closest(name, [...byFlag.keys(), CONFIG_FILE_FLAG, HELP_FLAG]);
    problems.push(`unknown flag --${name}${suggestion === undefined ? '' : ` (did you mean --${suggestion}?)`}`);
  }
  return { flagValues, positionals, configFlag };
}

function readConfigFile(path: string, defs: SettingDefs, options: LoadOptions, problems: string[]): Record<string, unknown> {
  let text: string;
  try {
    text = (options.readFile ?? ((file: string) => readFileSync(file, 'utf8')))(path);
  } catch (error) {
    problems.push(`${path}: cannot read the config file (${error instanceof Error ? error.message : String(error)})`);
    return {};
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    problems.push(`${path}: not valid JSON (${(error as Error).message})`);
    return {};
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push(`${path}: expected a JSON object of settings`);
    return {};
  }
  const values = json as Record<string, unknown>;
  for (const key of Object.keys(values)) {
    if (!Object.hasOwn(defs, key)) {
      const suggestion = closest(key, Object.keys(defs));
      problems.push(`${path}: unknown setting "${key}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`);
    }
  }
  return values;
}

/** The candidate within `FLAG_SUGGESTION_MAX_DISTANCE` edits of `name`, if any. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = FLAG_SUGGESTION_MAX_DISTANCE + 1;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * A loggable view of a loaded configuration: each value with its source, secrets redacted. Log it at startup so an
 * operator can see which layer won for every setting.
 */
export function describeConfig<S extends SettingDefs>(
  defs: S,
  outcome: Extract<LoadOutcome<S>, { kind: 'config' }>,
): Record<string, { value: unknown; source: Source }> {
  const out: Record<string, { value: unknown; source: Source }> = {};
  for (const [key, def] of Object.entries(defs)) {
    const value = (outcome.config as Record<string, unknown>)[key];
    out[key] = { value: def.secret && value !== undefined ? REDACTED_VALUE : value, source: outcome.sources[key]! };
  }
  return out;
}
