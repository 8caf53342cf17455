/**
 * `--help` text generated from setting definitions, so the help can never drift from what is actually read.
 */
import { CONFIG_FILE_ENV, CONFIG_FILE_FLAG, HELP_WRAP_COLUMNS, REDACTED_VALUE } from './defaults';
import { flagOf, type SettingDef, type SettingDefs } from './settings';

export interface HelpOptions {
  /** Command as typed (`horde miner`). */
  readonly command?: string;
  /** One paragraph under the usage line. */
  readonly summary?: string;
  /** Usage after the command and `[options]` (`<file>` for a positional). */
  readonly usageTail?: string;
}

function wrap(text: string, indent: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w.length > 0)) {
    if (line.length > 0 && indent.length + line.length + 1 + word.length > columns) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line.length === 0 ? word : `${line} ${word}`;
    }
  }
  if (line.length > 0) lines.push(indent + line);
  return lines;
}

function formatDefault(def: SettingDef<unknown>): string {
  if (!def.hasDefault) return def.optional ? 'optional' : 'required';
  if (def.secret) return `default ${REDACTED_VALUE}`;
  const value = def.defaultValue;
  if (def.kind === 'duration' && typeof value === 'number') return `default ${value} ms`;
  if (Array.isArray(value)) return `default ${value.length === 0 ? '(none)' : value.join(',')}`;
  return `default ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`;
}

/**
 * The help text of a set of definitions: usage, then one block per setting (flag, value type, environment
 * variable, default) with its doc string wrapped under it.
 *
 * @example
 * ```ts
 * process.stdout.write(helpText(minerSettings, { command: 'horde miner', summary: 'Runs a miner.' }));
 * ```
 */
export function helpText(defs: SettingDefs, options: HelpOptions = {}): string {
  const command = options.command ?? 'horde';
  const out: string[] = [`usage: ${command} [options]${options.usageTail === undefined ? '' : ` ${options.usageTail}`}`, ''];
  if (options.summary !== undefined) out.push(...wrap(options.summary, '', HELP_WRAP_COLUMNS), '');
  out.push(
    ...wrap(
      'Options. A flag wins over its environment variable, which wins over the config file, which wins over the default:',
      '',
      HELP_WRAP_COLUMNS,
    ),
    '',
  );
  for (const [key, def] of Object.entries(defs)) {
    const flag = flagOf(key, def);
    const head = def.isBoolean ? `--${flag} / --no-${flag}` : `--${flag} <${def.kind}>`;
    const details = [...(def.env === undefined ? [] : [`env ${def.env}`]), `file "${key}"`, formatDefault(def)];
    const line = `  ${head}  (${details.join(', ')})`;
    if (line.length <= HELP_WRAP_COLUMNS) out.push(line);
    else out.push(`  ${head}`, ...wrap(`(${details.join(', ')})`, '      ', HELP_WRAP_COLUMNS));
    out.push(...wrap(def.doc, '      ', HELP_WRAP_COLUMNS));
  }
  out.push(`  --${CONFIG_FILE_FLAG} <file>  (env ${CONFIG_FILE_ENV})`);
  out.push(...wrap('JSON file of settings by name (the quoted names above).', '      ', HELP_WRAP_COLUMNS));
  out.push('  --help, -h');
  out.push(...wrap('Print this help and exit.', '      ', HELP_WRAP_COLUMNS));
  return `${out.join('\n')}\n`;
}
