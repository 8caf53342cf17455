/**
 * `horde executor`'s configuration: upstream's MINER_ADDRESS / EXECUTOR_TOKEN, flags over environment, and exit code
 * 3 for bad usage (nothing is started).
 */
import { executorSettings } from '../../src/actors/executor/settings';
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
    expect(out.stderr).toContain('executorToken is required');
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
