import {
  ConfigDefinitionError,
  ConfigError,
  defineSettings,
  describeConfig,
  helpText,
  loadConfig,
  parseDurationMs,
  setting,
  type LoadOptions,
} from '../../../src/config';

const EXAMPLE_HEARTBEAT_INTERVAL_MS = 20_000;

/** A tiny role, declared the way real roles will declare theirs. */
const example = defineSettings({
  port: setting.int({ doc: 'Port to listen on.', env: 'EX_PORT', default: 8000, min: 1, max: 65535 }),
  host: setting.string({ doc: 'Interface to bind.', env: 'EX_HOST', default: '127.0.0.1' }),
  heartbeatIntervalMs: setting.durationMs({
    doc: 'How often to send a heartbeat. Shorter notices a dead peer sooner at the cost of more traffic.',
    env: 'EX_HEARTBEAT_INTERVAL',
    default: EXAMPLE_HEARTBEAT_INTERVAL_MS,
  }),
  debug: setting.boolean({ doc: 'Log every message.', env: 'EX_DEBUG', default: false }),
  logLevel: setting.oneOf(['debug', 'info', 'warn'], { doc: 'Lowest level logged.', env: 'EX_LOG_LEVEL', default: 'info' }),
  peers: setting.list({ doc: 'Peers to dial.', env: 'EX_PEERS', default: [] }),
  hotkeyFile: setting.string({ doc: 'Key file of the hotkey.', env: 'EX_HOTKEY_FILE' }),
  apiToken: setting.string({ doc: 'Token for the upstream API.', env: 'EX_API_TOKEN', optional: true, secret: true }),
});

const files: Record<string, string> = {
  'base.json': JSON.stringify({ port: 7000, host: '0.0.0.0', heartbeatIntervalMs: '5s', hotkeyFile: 'file.json' }),
  'broken.json': '{ not json',
  'typo.json': JSON.stringify({ prot: 1, hotkeyFile: 'x' }),
  'badvalues.json': JSON.stringify({ port: '7000', debug: 'yes', hotkeyFile: 'x' }),
};

function load(argv: string[], env: Record<string, string> = {}, extra: Partial<LoadOptions> = {}) {
  return loadConfig(example, {
    argv,
    env,
    readFile: (path) => {
      const content = files[path];
      if (content === undefined) throw new Error(`ENOENT: no such file '${path}'`);
      return content;
    },
    command: 'horde example',
    ...extra,
  });
}

function config(argv: string[], env: Record<string, string> = {}) {
  const outcome = load(argv, env);
  if (outcome.kind !== 'config') throw new Error('expected a config');
  return outcome;
}

function problems(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('precedence: flags > env > file > defaults', () => {
  it.each<[string, string[], Record<string, string>, number, string]>([
    ['default only', ['--hotkey-file', 'k'], {}, 8000, 'default'],
    ['file over default', ['--config', 'base.json'], {}, 7000, 'file'],
    ['env over file', ['--config', 'base.json'], { EX_PORT: '6000' }, 6000, 'env'],
    ['flag over env', ['--config', 'base.json', '--port', '5000'], { EX_PORT: '6000' }, 5000, 'flag'],
    ['flag with = over env', ['--port=4000', '--hotkey-file=k'], { EX_PORT: '6000' }, 4000, 'flag'],
    ['config file named by env', [], { HORDE_CONFIG: 'base.json' }, 7000, 'file'],
    ['empty env var counts as unset', ['--config', 'base.json'], { EX_PORT: '' }, 7000, 'file'],
  ])('%s', (_name, argv, env, port, source) => {
    const outcome = config(argv, env);
    expect(outcome.config.port).toBe(port);
    expect(outcome.sources.port).toBe(source);
  });

  it('returns typed values of every kind', () => {
    const outcome = config(
      ['--debug', '--log-level', 'warn', '--peers', 'a,b', '--peers', 'c', '--heartbeat-interval-ms', '1.5s', '--hotkey-file', 'k'],
      { EX_API_TOKEN: 's3cret' },
    );
    expect(outcome.config).toEqual({
      port: 8000,
      host: '127.0.0.1',
      heartbeatIntervalMs: 1500,
      debug: true,
      logLevel: 'warn',
      peers: ['a', 'b', 'c'],
      hotkeyFile: 'k',
      apiToken: 's3cret',
    });
    expect(outcome.sources.apiToken).toBe('env');
    // the loaded object is typed from the definitions (tsc checks these lines)
    const port: number = outcome.config.port;
    const level: 'debug' | 'info' | 'warn' = outcome.config.logLevel;
    const token: string | undefined = outcome.config.apiToken;
    // @ts-expect-error a number is not a string
    const wrong: string = outcome.config.port;
    expect([port, level, token, wrong]).toEqual([8000, 'warn', 's3cret', 8000]);
  });

  it('leaves an optional setting undefined and marks it unset', () => {
    const outcome = config(['--hotkey-file', 'k']);
    expect(outcome.config.apiToken).toBeUndefined();
    expect(outcome.sources.apiToken).toBe('unset');
  });

  it('turns a boolean off with --no-flag or =false, over an env var saying on', () => {
    expect(config(['--no-debug', '--hotkey-file', 'k'], { EX_DEBUG: 'true' }).config.debug).toBe(false);
    expect(config(['--debug=false', '--hotkey-file', 'k'], { EX_DEBUG: 'yes' }).config.debug).toBe(false);
    expect(config(['--hotkey-file', 'k'], { EX_DEBUG: 'on' }).config.debug).toBe(true);
  });

  it('reads durations with units from env and file', () => {
    expect(config(['--hotkey-file', 'k'], { EX_HEARTBEAT_INTERVAL: '2m' }).config.heartbeatIntervalMs).toBe(120_000);
    expect(config(['--config', 'base.json']).config.heartbeatIntervalMs).toBe(5000);
  });
});

describe('problems are collected and reported together', () => {
  it('lists an unknown flag (with a suggestion), a bad value and a missing required setting at once', () => {
    expect(problems(() => load(['--prot', '80', '--port', 'eighty']))).toEqual([
      'unknown flag --prot (did you mean --port?)',
      '--port: expected an integer, got "eighty"',
      'hotkeyFile is required: set --hotkey-file, or EX_HOTKEY_FILE, or "hotkeyFile" in a config file',
    ]);
  });

  it('names the environment variable or file key a bad value came from', () => {
    expect(problems(() => load(['--hotkey-file', 'k'], { EX_PORT: '70000', EX_LOG_LEVEL: 'loud' }))).toEqual([
      'EX_PORT: expected an integer <= 65535, got "70000"',
      'EX_LOG_LEVEL: expected one of debug, info, warn, got "loud"',
    ]);
    expect(problems(() => load(['--config', 'badvalues.json']))).toEqual([
      'badvalues.json: port: expected an integer, got "7000"',
      'badvalues.json: debug: expected true or false, got "yes"',
    ]);
  });

  it('refuses unknown keys in the config file, a broken file and a missing one', () => {
    expect(problems(() => load(['--config', 'typo.json']))).toEqual(['typo.json: unknown setting "prot" (did you mean "port"?)']);
    expect(problems(() => load(['--config', 'broken.json', '--hotkey-file', 'k']))[0]).toMatch(/^broken\.json: not valid JSON/);
    expect(problems(() => load(['--config', 'missing.json', '--hotkey-file', 'k']))[0]).toMatch(/^missing\.json: cannot read/);
  });

  it('refuses a missing value, a repeated scalar flag, stray arguments and short options', () => {
    expect(problems(() => load(['--hotkey-file', 'k', '--port']))).toEqual(['--port: needs a value']);
    expect(problems(() => load(['--hotkey-file', 'k', '--port', '1', '--port', '2']))).toEqual(['--port: given 2 times']);
    expect(problems(() => load(['--hotkey-file', 'k', 'stray']))).toEqual(['unexpected argument: stray']);
    expect(problems(() => load(['--hotkey-file', 'k', '-p', '1']))).toEqual(['unknown option -p (options are spelled --name)', 'unexpected argument: 1']);
  });

  it('never shows a secret value in a problem', () => {
    const outcome = problems(() =>
      loadConfig(defineSettings({ token: setting.int({ doc: 'A numeric token.', env: 'EX_TOKEN', secret: true }) }), {
        argv: [],
        env: { EX_TOKEN: 'hunter2' },
      }),
    );
    expect(outcome).toEqual(['EX_TOKEN: expected an integer, got [redacted]']);
  });

  it('reports everything in one readable message', () => {
    try {
      load(['--prot', '1']);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).code).toBe('config.invalid');
      expect((error as ConfigError).message).toBe(
        'invalid configuration:\n  - unknown flag --prot (did you mean --port?)\n  - hotkeyFile is required: set --hotkey-file, or EX_HOTKEY_FILE, or "hotkeyFile" in a config file',
      );
    }
    expect.assertions(3);
  });
});

describe('positionals', () => {
  it('are returned when allowed, including everything after --', () => {
    const outcome = load(['file.txt', '--hotkey-file', 'k', '--', '--port', '1'], {}, { allowPositionals: true });
    expect(outcome.kind === 'config' && outcome.positionals).toEqual(['file.txt', '--port', '1']);
  });
});

describe('help', () => {
  it('is returned instead of loading, even when other flags are wrong', () => {
    const outcome = load(['--nonsense', '--help']);
    expect(outcome.kind).toBe('help');
  });

  it('documents every setting with its flag, env var, file key and default', () => {
    const text = helpText(example, { command: 'horde example', summary: 'An example role.' });
    expect(text).toContain('usage: horde example [options]');
    expect(text).toContain('  --port <int>  (env EX_PORT, file "port", default 8000)\n      Port to listen on.');
    expect(text).toContain(
      '  --heartbeat-interval-ms <duration>\n      (env EX_HEARTBEAT_INTERVAL, file "heartbeatIntervalMs", default 20000 ms)\n      How often',
    );
    expect(text).toContain('--debug / --no-debug  (env EX_DEBUG, file "debug", default false)');
    expect(text).toContain('--log-level <debug|info|warn>');
    expect(text).toContain('--hotkey-file <string>  (env EX_HOTKEY_FILE, file "hotkeyFile", required)');
    expect(text).toContain('--api-token <string>  (env EX_API_TOKEN, file "apiToken", optional)');
    expect(text).toContain('--config <file>  (env HORDE_CONFIG)');
    expect(text.split('\n').every((line) => line.length <= 100)).toBe(true);
  });
});

describe('describeConfig', () => {
  it('shows each value with its source and hides secrets', () => {
    const outcome = config(['--hotkey-file', 'k'], { EX_API_TOKEN: 's3cret' });
    if (outcome.kind !== 'config') throw new Error('unreachable');
    const described = describeConfig(example, outcome);
    expect(described['apiToken']).toEqual({ value: '[redacted]', source: 'env' });
    expect(described['port']).toEqual({ value: 8000, source: 'default' });
  });
});

describe('defineSettings', () => {
  it('refuses contradictory definitions, listing each', () => {
    let error: unknown;
    try {
      defineSettings({
        timeout: setting.durationMs({ doc: 'x', default: 1 }),
        a: setting.string({ doc: 'x', env: 'SAME', flag: 'same' }),
        b: setting.string({ doc: 'x', env: 'SAME', flag: 'same' }),
        help: setting.boolean({ doc: 'x', default: false }),
        level: setting.int({ doc: 'x', default: 5, max: 3 }),
        undocumented: setting.string({ doc: ' ', optional: true }),
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigDefinitionError);
    expect((error as ConfigDefinitionError).problems).toEqual([
      "timeout: a duration setting's name must end in Ms",
      'b: --same is already the flag of a',
      'b: SAME is already the variable of a',
      'help: --help is reserved',
      'level: default 5 is not an integer <= 3',
      'undocumented: every setting needs a doc string',
    ]);
  });
});

describe('parseDurationMs', () => {
  it.each<[string, number | undefined]>([
    ['1500', 1500],
    ['250ms', 250],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 10 s ', 10_000],
    ['1.0005s', undefined],
    ['-1', undefined],
    ['10 days', undefined],
    ['', undefined],
  ])('%p → %p', (text, expected) => {
    const parsed = parseDurationMs(text);
    expect(parsed.ok ? parsed.value : undefined).toBe(expected);
  });
});
