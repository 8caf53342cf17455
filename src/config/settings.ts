/**
 * Declarative setting definitions. Each role declares its settings once, with the builders in `setting`, and gets
 * typed loading (`loadConfig`), validation and `--help` text from that one declaration, so a setting is documented
 * exactly where it is defined.
 */
import { ConfigDefinitionError } from './errors';
import { CONFIG_FILE_FLAG, HELP_FLAG } from './defaults';

/** The outcome of reading one raw value: the value, or a sentence saying what was expected. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; expected: string };

/** One setting. Build it with the `setting.*` builders rather than by hand. */
export interface SettingDef<T> {
  /** Type name shown in help (`<int>`, `<duration>`, `<a|b>`). */
  readonly kind: string;
  /** One or more sentences for `--help`: what it does and what changing it costs. */
  readonly doc: string;
  /** Environment variable read for it, if any. */
  readonly env?: string;
  /** Flag name without dashes; `defineSettings` fills in the kebab-case of the key when absent. */
  readonly flag?: string;
  /** True when the setting has a default (then `defaultValue` holds it) or may stay unset. */
  readonly hasDefault: boolean;
  readonly defaultValue?: T;
  /** True when the setting may stay unset (its value is then `undefined`). */
  readonly optional: boolean;
  /** The value is hidden in summaries and help (tokens, secrets). */
  readonly secret: boolean;
  /** A boolean flag takes no value (`--verbose`, `--no-verbose`). */
  readonly isBoolean: boolean;
  /** A list flag may repeat (`--peer a --peer b`). */
  readonly isList: boolean;
  /** Reads a flag or environment value. */
  readonly parseText: (text: string) => Parsed<T>;
  /** Reads a config-file value (JSON). */
  readonly parseJson: (value: unknown) => Parsed<T>;
  /**
   * Extra check after parsing; returns a problem sentence or undefined. (Method syntax on purpose: it keeps
   * `SettingDef<number>` assignable to `SettingDef<unknown>`.)
   */
  validate?(value: T): string | undefined;
}

interface CommonOptions<T> {
  readonly doc: string;
  readonly env?: string;
  readonly flag?: string;
  readonly secret?: boolean;
  readonly validate?: (value: T) => string | undefined;
}

/** Overloads shared by every builder: with a default → T; `optional: true` → T | undefined; neither → required T. */
export interface Builder<T, Extra = object> {
  (options: CommonOptions<T> & Extra & { readonly default: T }): SettingDef<T>;
  (options: CommonOptions<T> & Extra & { readonly optional: true }): SettingDef<T | undefined>;
  (options: CommonOptions<T> & Extra): SettingDef<T>;
}

type AnyOptions<T, Extra> = CommonOptions<T> & Extra & { readonly default?: T; readonly optional?: boolean };

function make<T, Extra>(
  kind: (options: AnyOptions<T, Extra>) => string,
  parsers: (options: AnyOptions<T, Extra>) => Pick<SettingDef<T>, 'parseText' | 'parseJson'>,
  flags: { isBoolean?: boolean; isList?: boolean } = {},
): Builder<T, Extra> {
  return ((options: AnyOptions<T, Extra>): SettingDef<T> => ({
    kind: kind(options),
    doc: options.doc,
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.flag === undefined ? {} : { flag: options.flag }),
    hasDefault: 'default' in options,
    ...('default' in options ? { defaultValue: options.default } : {}),
    optional: options.optional === true,
    secret: options.secret === true,
    isBoolean: flags.isBoolean === true,
    isList: flags.isList === true,
    ...parsers(options),
    ...(options.validate === undefined ? {} : { validate: options.validate }),
  }));
}

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const expected = <T>(what: string): Parsed<T> => ({ ok: false, expected: what });

interface Range {
  readonly min?: number;
  readonly max?: number;
}

function inRange(value: number, range: Range, what: string): Parsed<number> {
  if (range.min !== undefined && value < range.min) return expected(`${what} >= ${range.min}`);
  if (range.max !== undefined && value > range.max) return expected(`${what} <= ${range.max}`);
  return ok(value);
}

function parseInt10(text: string, range: Range): Parsed<number> {
  const trimmed = text.trim();
  if (!/^[-+]?\d+$/.test(trimmed)) return expected('an integer');
  const value = Number(trimmed);
  if (!Number.isSafeInteger(value)) return expected('an integer below 2^53');
  return inRange(value, range, 'an integer');
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `1500`, `250ms`, `1.5s`, `2m`, `1h` into whole milliseconds. */
export function parseDurationMs(text: string): Parsed<number> {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const what = 'a duration (milliseconds, or a number with ms|s|m|h)';
  if (match === null) return expected(what);
  const value = Number(match[1]) * DURATION_UNITS_MS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(value)) return expected(`${what} that is a whole number of milliseconds`);
  return ok(value);
}

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
const FALSE_WORDS = ['false', '0', 'no', 'off'];

function parseBoolean(text: string): Parsed<boolean> {
  const word = text.trim().toLowerCase();
  if (TRUE_WORDS.includes(word)) return ok(true);
  if (FALSE_WORDS.includes(word)) return ok(false);
  return expected('true or false');
}

function jsonString(value: unknown): Parsed<string> {
  return typeof value === 'string' ? ok(value) : expected('a string');
}

/**
 * One of a fixed set of words.
 *
 * @example
 * ```ts
 * logLevel: setting.oneOf(['debug', 'info', 'warn', 'error'], { doc: '...', default: 'info' }),
 * ```
 */
function oneOf<const C extends readonly string[]>(
  choices: C,
  options: CommonOptions<C[number]> & { readonly default: C[number] },
): SettingDef<C[number]>;
function oneOf<const C extends readonly string[]>(
  choices: C,
  options: CommonOptions<C[number]> & { readonly optional: true },
): SettingDef<C[number] | undefined>;
function oneOf<const C extends readonly string[]>(choices: C, options: CommonOptions<C[number]>): SettingDef<C[number]>;
function oneOf<const C extends readonly string[]>(choices: C, options: CommonOptions<C[number]>): SettingDef<C[number]> {
  const what = `one of ${choices.join(', ')}`;
  const parse = (value: unknown): Parsed<C[number]> =>
    typeof value === 'string' && choices.includes(value) ? { ok: true, value } : expected(what);
  return make<C[number], object>(
    () => choices.join('|'),
    () => ({ parseText: parse, parseJson: parse }),
  )(options);
}

/**
 * The setting builders.
 *
 * @example
 * ```ts
 * const minerSettings = defineSettings({
 *   port: setting.int({ doc: 'Port the miner listens on.', env: 'HORDE_MINER_PORT', default: 8000, min: 1, max: 65535 }),
 *   heartbeatIntervalMs: setting.durationMs({ doc: 'How often...', default: HEARTBEAT_INTERVAL_MS }),
 *   hotkeyFile: setting.string({ doc: 'Key file of the miner hotkey.', env: 'HORDE_HOTKEY_FILE' }),
 * });
 * ```
 */
export const setting = {
  /** Free text. */
  string: make<string, object>(
    () => 'string',
    () => ({ parseText: ok, parseJson: jsonString }),
  ),
  /** A safe integer, optionally bounded. */
  int: make<number, Range>(
    () => 'int',
    (options) => ({
      parseText: (text) => parseInt10(text, options),
      parseJson: (value) =>
        typeof value === 'number' && Number.isSafeInteger(value) ? inRange(value, options, 'an integer') : expected('an integer'),
    }),
  ),
  /** Any finite number, optionally bounded. */
  number: make<number, Range>(
    () => 'number',
    (options) => ({
      parseText: (text) => {
        const value = text.trim() === '' ? NaN : Number(text);
        return Number.isFinite(value) ? inRange(value, options, 'a number') : expected('a number');
      },
      parseJson: (value) =>
        typeof value === 'number' && Number.isFinite(value) ? inRange(value, options, 'a number') : expected('a number'),
    }),
  ),
  /** A flag without value (`--x`, `--no-x`, `--x=false`); env and file take true/false/1/0/yes/no/on/off. */
  boolean: make<boolean, object>(
    () => 'bool',
    () => ({
      parseText: parseBoolean,
      parseJson: (value) => (typeof value === 'boolean' ? ok(value) : expected('true or false')),
    }),
    { isBoolean: true },
  ),
  /**
   * A duration in whole milliseconds; its key must end in `Ms`. Text may carry a unit (`250ms`, `1.5s`, `2m`, `1h`);
   * a bare number is milliseconds. A config file may hold a number (ms) or such text.
   */
  durationMs: make<number, Range>(
    () => 'duration',
    (options) => {
      const bounded = (parsed: Parsed<number>): Parsed<number> =>
        parsed.ok ? inRange(parsed.value, options, 'a duration in ms') : parsed;
      return {
        parseText: (text) => bounded(parseDurationMs(text)),
        parseJson: (value) =>
          typeof value === 'number'
            ? Number.isSafeInteger(value) && value >= 0
              ? bounded(ok(value))
              : expected('a whole, non-negative number of milliseconds')
            : typeof value === 'string'
              ? bounded(parseDurationMs(value))
              : expected('a duration'),
      };
    },
  ),
  /** A comma-separated list of strings (flags may also repeat); a config file holds a JSON array. */
  list: make<readonly string[], object>(
    () => 'list',
    () => ({
      parseText: (text) =>
        ok(
          text
            .split(',')
            .map((item) => item.trim())
            .filter((item) => item.length > 0),
        ),
      parseJson: (value) =>
        Array.isArray(value) && value.every((item) => typeof item === 'string')
          ? ok(value)
          : expected('a list of strings'),
    }),
    { isList: true },
  ),
  oneOf,
};

/** A role's settings by key. */
export type SettingDefs = Readonly<Record<string, SettingDef<unknown>>>;

/** The typed configuration a set of definitions loads into. */
export type ConfigOf<S extends SettingDefs> = { -readonly [K in keyof S]: S[K] extends SettingDef<infer T> ? T : never };

/** `heartbeatIntervalMs` → `heartbeat-interval-ms`. */
export function kebabCase(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();
}

/** The flag of a definition: its explicit `flag`, else the kebab-case of its key. */
export function flagOf(key: string, def: SettingDef<unknown>): string {
  return def.flag ?? kebabCase(key);
}

/**
 * Checks a role's definitions and returns them unchanged (typed). Throws `ConfigDefinitionError` listing every
 * problem: a duration key without `Ms`, two settings sharing a flag or environment variable, a reserved flag
 * (`--help`, `--config`), a default its own parser or validator would refuse.
 *
 * @example
 * ```ts
 * export const keysNewSettings = defineSettings({ name: setting.string({ doc: 'Key name.', default: 'default' }) });
 * ```
 */
export function defineSettings<const S extends SettingDefs>(defs: S): S {
  const problems: string[] = [];
  const flags = new Map<string, string>();
  const envs = new Map<string, string>();
  for (const [key, def] of Object.entries(defs)) {
    if (def.kind === 'duration' && !key.endsWith('Ms')) problems.push(`${key}: a duration setting's name must end in Ms`);
    const flag = flagOf(key, def);
    if (!/^[a-z0-9][a-z0-9-]*$/.test(flag)) problems.push(`${key}: flag --${flag} must be lowercase kebab-case`);
    if (flag === HELP_FLAG || flag === CONFIG_FILE_FLAG) problems.push(`${key}: --${flag} is reserved`);
    if (def.isBoolean && flag.startsWith('no-')) problems.push(`${key}: a boolean flag must not start with no-`);
    const flagOwner = flags.get(flag);
    if (flagOwner !== undefined) problems.push(`${key}: --${flag} is already the flag of ${flagOwner}`);
    flags.set(flag, key);
    if (def.env !== undefined) {
      const envOwner = envs.get(def.env);
      if (envOwner !== undefined) problems.push(`${key}: ${def.env} is already the variable of ${envOwner}`);
      envs.set(def.env, key);
    }
    if (def.doc.trim().length === 0) problems.push(`${key}: every setting needs a doc string`);
    if (def.hasDefault && def.defaultValue !== undefined) {
      const reparsed = def.parseJson(def.defaultValue);
      if (!reparsed.ok) problems.push(`${key}: default ${JSON.stringify(def.defaultValue)} is not ${reparsed.expected}`);
      else {
        const invalid = def.validate?.(def.defaultValue);
        if (invalid !== undefined) problems.push(`${key}: default is invalid: ${invalid}`);
      }
    }
  }
  if (problems.length > 0) throw new ConfigDefinitionError(problems);
  return defs;
}
