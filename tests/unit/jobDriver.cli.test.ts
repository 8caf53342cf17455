/**
 * `horde executor`'s configuration: upstream's MINER_ADDRESS / EXECUTOR_TOKEN, flags over environment, and exit code
 * 3 for bad usage (nothing is started).
 */
import { Readable } from 'node:stream';
import { executorSettings, parseStandbyLine, STANDBY_LINE_MAX_CHARS } from '../../src/actors/executor/settings';
import { executorInterfaceUrl } from '../../src/actors/executor/executorRoot';
import { executorCommand } from '../../src/cli/executor';
import { loadConfig } from '../../src/config';

function io(env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  return {
    out,
    io: { stdout: (t: string) => void (out.stdout += t), stderr: (t: string) => void (out.stderr += t), env, cwd: '/' },
  };
}

describe('horde executor: configuration', () => {
  it('reads the miner address and token from upstream’s variables', () => {
    const outcome = loadConfig(executorSettings, { argv: [], env: { MINER_ADDRESS: 'ws://miner:8000', EXECUTOR_TOKEN: 'abc-1' }, command: 'horde executor' });
    expect(outcome.kind === 'config' && outcome.config).toMatchObject({ minerAddress: 'ws://miner:8000', executorToken: 'abc-1', imagePullPolicy: 'if-missing' });
  });

  it('lets flags win over the environment', () => {
    const outcome = loadConfig(executorSettings, {
      argv: ['--miner-address', 'ws://flag:1', '--startup-time-limit-ms', '2s'],
      env: { MINER_ADDRESS: 'ws://env:2', EXECUTOR_TOKEN: 't', HORDE_EXECUTOR_STARTUP_TIME_LIMIT_MS: '9s' },
      command: 'horde executor',
    });
    expect(outcome.kind === 'config' && outcome.config).toMatchObject({ minerAddress: 'ws://flag:1', startupTimeLimitMs: 2_000 });
  });

  it('exits 3 with every problem when required settings are missing or wrong', async () => {
    const { out, io: commandIo } = io({ MINER_ADDRESS: 'http://not-ws' });
    expect(await executorCommand([], commandIo)).toBe(3);
    expect(out.stderr).toContain('MINER_ADDRESS: must be a ws:// or wss:// address');
  });

  it('exits 3 without a token unless it is a standby, and with a token when it is one', async () => {
    const missing = io({ MINER_ADDRESS: 'ws://m:1' });
    expect(await executorCommand([], missing.io)).toBe(3);
    expect(missing.out.stderr).toContain('executorToken is required');
    const both = io({ MINER_ADDRESS: 'ws://m:1', EXECUTOR_TOKEN: 't' });
    expect(await executorCommand(['--standby'], both.io)).toBe(3);
    expect(both.out.stderr).toContain('executorToken must not be set with --standby');
  });

  it.each([
    { line: '{"token":"abc-1"}', expected: { ok: true, value: 'abc-1' } },
    { line: '{"token": "0f8a-xyz_~."}', expected: { ok: true, value: '0f8a-xyz_~.' } },
    { line: 'abc-1', expected: { ok: false, error: 'the standby line is not JSON; expected {"token": "..."}' } },
    { line: '"abc-1"', expected: { ok: false, error: 'expected a JSON object {"token": "..."}' } },
    { line: '{"token":"abc-1","job":"x"}', expected: { ok: false, error: 'expected exactly one key, "token"' } },
    { line: '{"token":""}', expected: { ok: false, error: '"token" must be a non-empty string' } },
    { line: '{"token":5}', expected: { ok: false, error: '"token" must be a non-empty string' } },
    { line: '{"token":"a/b"}', expected: { ok: false, error: '"token": use letters, digits, ".", "_", "~" or "-" only' } },
    { line: `{"token":"${'a'.repeat(STANDBY_LINE_MAX_CHARS)}"}`, expected: { ok: false, error: `the standby line is longer than ${STANDBY_LINE_MAX_CHARS} characters` } },
  ])('reads the standby line $line', ({ line, expected }) => {
    expect(parseStandbyLine(line)).toEqual(expected);
  });

  it('exits 0 when a standby’s stdin closes before a token, and 3 for a bad line', async () => {
    const closed = io({ MINER_ADDRESS: 'ws://127.0.0.1:9', HORDE_DOCKER_SOCKET: '/nonexistent.sock' });
    expect(await executorCommand(['--standby', '--log-level', 'error'], closed.io, Readable.from([]))).toBe(0);
    const bad = io({ MINER_ADDRESS: 'ws://127.0.0.1:9', HORDE_DOCKER_SOCKET: '/nonexistent.sock' });
    expect(await executorCommand(['--standby', '--log-level', 'error'], bad.io, Readable.from(['{"job": 1}\n']))).toBe(3);
    expect(bad.out.stderr).toContain('expected exactly one key, "token"');
  });

  it('exits 3 for an unknown flag', async () => {
    const { out, io: commandIo } = io({ MINER_ADDRESS: 'ws://m:1', EXECUTOR_TOKEN: 't' });
    expect(await executorCommand(['--startup-limit', '5s'], commandIo)).toBe(3);
    expect(out.stderr).toContain('unknown flag --startup-limit');
  });

  it('prints generated help, naming upstream’s variables, and exits 0', async () => {
    const { out, io: commandIo } = io();
    expect(await executorCommand(['--help'], commandIo)).toBe(0);
    expect(out.stdout).toContain('MINER_ADDRESS');
    expect(out.stdout).toContain('EXECUTOR_TOKEN');
    expect(out.stdout).toContain('--image-pull-policy');
  });

  it('dials upstream’s executor interface path', () => {
    expect(executorInterfaceUrl('ws://127.0.0.1:8000/', 'tok-1')).toBe('ws://127.0.0.1:8000/v0.1/executor_interface/tok-1');
  });
});
