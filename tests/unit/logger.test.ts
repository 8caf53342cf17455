import { manualClock } from '../../src/util/clock';
import { HordeError } from '../../src/util/errors';
import { defineSettings, loadConfig } from '../../src/config';
import {
  createLogger,
  LOG_MAX_ARRAY_ITEMS,
  LOG_MAX_STRING_CHARS,
  logLevelFromEnv,
  memorySink,
  parseLogLevel,
  snakeCase,
  logLevelSetting,
  type LoggerOptions,
} from '../../src/telemetry/logger';

class UploadFailedError extends HordeError {
  constructor(cause?: unknown) {
    super('job.upload_failed', 'upload failed', { cause });
  }
}

function setup(options: Partial<LoggerOptions> = {}) {
  const memory = memorySink();
  const clock = manualClock(Date.UTC(2025, 0, 2, 3, 4, 5, 678));
  const log = createLogger({ component: 'miner', level: 'debug', sink: memory.sink, clock, ...options });
  return { memory, clock, log };
}

describe('logger', () => {
  it('writes one JSON object per line with ts, level, msg, component and the fields', () => {
    const { memory, log } = setup();
    log.info('job accepted', { executorClass: 'always_on.gpu-24gb', attempt: 2 });
    expect(memory.lines).toEqual([
      '{"ts":"2025-01-02T03:04:05.678Z","level":"info","msg":"job accepted","component":"miner","executor_class":"always_on.gpu-24gb","attempt":2}',
    ]);
  });

  it('drops lines below the threshold and writes nothing when silent', () => {
    const { memory, log } = setup({ level: 'warn' });
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    expect(memory.records().map((r) => r['level'])).toEqual(['warn', 'error']);
    expect(log.isEnabled('info')).toBe(false);
    expect(log.isEnabled('error')).toBe(true);
    const silent = setup({ level: 'silent' });
    silent.log.error('nothing');
    expect(silent.memory.lines).toEqual([]);
  });

  it('takes its threshold from HORDE_LOG_LEVEL, falling back to info', () => {
    expect(logLevelFromEnv({ HORDE_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelFromEnv({ HORDE_LOG_LEVEL: 'silent' })).toBe('silent');
    expect(logLevelFromEnv({ HORDE_LOG_LEVEL: 'loud' })).toBe('info');
    expect(logLevelFromEnv({})).toBe('info');
    expect(parseLogLevel(' warn ')).toBe('warn');
    expect(parseLogLevel(undefined)).toBeUndefined();
  });

  it('puts a child\'s bound fields on every line, in snake_case, without changing the parent', () => {
    const { memory, log } = setup();
    const jobLog = log.child({ jobUuid: 'j-1' });
    const stageLog = jobLog.child({ stage: 'execution' }, { component: 'miner.job' });
    jobLog.info('a');
    stageLog.warn('b', { exitCode: 1 });
    log.info('c');
    const [a, b, c] = memory.records();
    expect(a).toMatchObject({ msg: 'a', component: 'miner', job_uuid: 'j-1' });
    expect(b).toMatchObject({ msg: 'b', component: 'miner.job', job_uuid: 'j-1', stage: 'execution', exit_code: 1 });
    expect(c).not.toHaveProperty('job_uuid');
  });

  it('lets per-line fields override bound ones but never the core keys', () => {
    const { memory, log } = setup();
    log.child({ stage: 'download' }).info('x', { stage: 'upload', msg: 'sneaky', level: 'error' });
    expect(memory.records()[0]).toMatchObject({ msg: 'x', level: 'info', stage: 'upload', field_msg: 'sneaky', field_level: 'error' });
  });

  it('serialises errors with name, code, message, stack and cause', () => {
    const { memory, log } = setup();
    const error = new UploadFailedError(new Error('ECONNRESET'));
    log.error('upload failed', { error });
    const record = memory.records()[0]!;
    expect(record['error']).toMatchObject({
      name: 'UploadFailedError',
      code: 'job.upload_failed',
      message: 'upload failed',
      cause: { name: 'Error', message: 'ECONNRESET' },
    });
    expect((record['error'] as { stack: string }).stack).toContain('UploadFailedError: upload failed');
  });

  it('never throws on circular fields, throwing getters or odd values', () => {
    const { memory, log } = setup();
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['self'] = circular;
    const hostile = {
      get boom(): never {
        throw new Error('getter exploded');
      },
    };
    expect(() =>
      log.info('odd', {
        circular,
        hostile,
        big: 2n ** 70n,
        nan: NaN,
        when: new Date(0),
        bytes: new Uint8Array([1, 2, 255]),
        fn: function named() {},
        nested: { map: new Map([['a', 1]]), set: new Set([1, 2]) },
      }),
    ).not.toThrow();
    const record = memory.records()[0]!;
    expect(record['circular']).toEqual({ name: 'loop', self: '[circular]' });
    expect(record['hostile']).toBe('[unserializable: getter exploded]');
    expect(record).toMatchObject({
      big: '1180591620717411303424',
      nan: 'NaN',
      when: '1970-01-01T00:00:00.000Z',
      bytes: '0x0102ff',
      fn: '[function named]',
      nested: { map: { a: 1 }, set: [1, 2] },
    });
  });

  it('shares a value seen twice (not a cycle) in full both times', () => {
    const { memory, log } = setup();
    const shared = { id: 1 };
    log.info('twice', { a: shared, b: [shared, shared] });
    expect(memory.records()[0]).toMatchObject({ a: { id: 1 }, b: [{ id: 1 }, { id: 1 }] });
  });

  it('bounds huge strings and arrays', () => {
    const { memory, log } = setup();
    log.info('big', { stdout: 'x'.repeat(LOG_MAX_STRING_CHARS + 10), items: Array.from({ length: LOG_MAX_ARRAY_ITEMS + 5 }, (_, i) => i) });
    const record = memory.records()[0]!;
    expect(record['stdout']).toBe(`${'x'.repeat(LOG_MAX_STRING_CHARS)}…[+10 chars]`);
    expect((record['items'] as unknown[]).length).toBe(LOG_MAX_ARRAY_ITEMS + 1);
    expect((record['items'] as unknown[]).at(-1)).toBe('… 5 more');
  });

  it('redacts secret-looking fields at any depth unless told not to', () => {
    const { memory, log } = setup();
    log.info('auth', { hotkey: '5Grw', executorToken: 't', nested: { secretSeed: '0xabc', ss58: '5Grw' } });
    expect(memory.records()[0]).toMatchObject({
      hotkey: '5Grw',
      executor_token: '[redacted]',
      nested: { secretSeed: '[redacted]', ss58: '5Grw' },
    });
    const open = setup({ redact: false });
    open.log.info('auth', { executorToken: 't' });
    expect(open.memory.records()[0]).toMatchObject({ executor_token: 't' });
  });

  it('keeps running when the sink throws', () => {
    const log = createLogger({
      component: 'x',
      level: 'info',
      sink: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => log.info('lost')).not.toThrow();
  });

  it('still writes a line when the clock is broken', () => {
    const memory = memorySink();
    const log = createLogger({ component: 'x', level: 'info', sink: memory.sink, clock: { nowMs: () => NaN } });
    log.info('when?');
    expect(memory.records()[0]).toMatchObject({ msg: 'when?', ts: '1970-01-01T00:00:00.000Z', log_error: 'Invalid time value' });
  });

  it('keeps only the newest lines in a memory sink and counts the dropped ones', () => {
    const memory = memorySink(2);
    const log = createLogger({ component: 'x', level: 'info', sink: memory.sink });
    log.info('1');
    log.info('2');
    log.info('3');
    expect(memory.records().map((r) => r['msg'])).toEqual(['2', '3']);
    expect(memory.dropped).toBe(1);
  });
});

describe('snakeCase', () => {
  it.each([
    ['jobUuid', 'job_uuid'],
    ['HTTPStatus', 'http_status'],
    ['executorClass', 'executor_class'],
    ['already_snake', 'already_snake'],
    ['x-horde-session', 'x_horde_session'],
    ['ttlMs', 'ttl_ms'],
  ])('%s → %s', (input, expected) => {
    expect(snakeCase(input)).toBe(expected);
  });
});

describe('logLevelSetting', () => {
  it('reads --log-level, HORDE_LOG_LEVEL and defaults to info', () => {
    const defs = defineSettings({ logLevel: logLevelSetting });
    const load = (argv: string[], env: Record<string, string>) => {
      const outcome = loadConfig(defs, { argv, env });
      return outcome.kind === 'config' ? outcome.config.logLevel : undefined;
    };
    expect(load([], {})).toBe('info');
    expect(load([], { HORDE_LOG_LEVEL: 'warn' })).toBe('warn');
    expect(load(['--log-level', 'debug'], { HORDE_LOG_LEVEL: 'warn' })).toBe('debug');
  });
});
