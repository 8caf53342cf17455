/**
 * `horde validator` settings: the trusted-miner address format and the flags' names.
 */
import { loadConfig } from '../../../src/config';
import { parseTrustedMiner, validatorSettings } from '../../../src/actors/validator/settings';

describe('parseTrustedMiner', () => {
  it.each([
    ['5Fminer@127.0.0.1:8000', { hotkey: '5Fminer', address: '127.0.0.1', port: 8000 }],
    ['5Fminer@miner.example:1', { hotkey: '5Fminer', address: 'miner.example', port: 1 }],
    ['5Fminer@[::1]:65535', { hotkey: '5Fminer', address: '::1', port: 65_535 }],
  ])('reads %s', (text, expected) => {
    expect(parseTrustedMiner(text)).toEqual(expected);
  });

  it.each(['5Fminer', '5Fminer@127.0.0.1', '@127.0.0.1:8000', '5Fminer@127.0.0.1:0', '5Fminer@127.0.0.1:70000', '5Fminer@::1:8000'])(
    'refuses %s',
    (text) => {
      expect(parseTrustedMiner(text)).toBeUndefined();
    },
  );
});

describe('validator settings', () => {
  const required = ['--facilitator-url', 'ws://127.0.0.1:9000/ws/v0/', '--metagraph-file', 'm.json'];

  it('takes the contract flags, with repeatable --whitelist', () => {
    const outcome = loadConfig(validatorSettings, {
      argv: [...required, '--dev-key', 'v', '--port', '0', '--whitelist', 'a,b', '--whitelist', 'c', '--trusted-miner', 'k@h:1'],
      env: {},
      command: 'horde validator',
    });
    expect(outcome.kind).toBe('config');
    if (outcome.kind !== 'config') return;
    expect(outcome.config).toMatchObject({ devKey: 'v', port: 0, whitelist: ['a', 'b', 'c'], trustedMiner: 'k@h:1', host: '127.0.0.1' });
  });

  it('reads HORDE_VALIDATOR_* environment variables', () => {
    const outcome = loadConfig(validatorSettings, {
      argv: required,
      env: { HORDE_VALIDATOR_MAX_CONCURRENT_JOBS: '3', HORDE_VALIDATOR_MANIFEST_INTERVAL_MS: '2s' },
      command: 'horde validator',
    });
    expect(outcome.kind === 'config' && outcome.config).toMatchObject({ maxConcurrentJobs: 3, manifestIntervalMs: 2_000 });
  });

  it('refuses a facilitator URL that is not ws:// and a malformed trusted miner', () => {
    expect(() => loadConfig(validatorSettings, { argv: ['--facilitator-url', 'http://x/', '--metagraph-file', 'm'], env: {}, command: 'horde validator' })).toThrow(
      /facilitator-url/,
    );
    expect(() => loadConfig(validatorSettings, { argv: [...required, '--trusted-miner', 'nope'], env: {}, command: 'horde validator' })).toThrow(
      /HOTKEY@HOST:PORT/,
    );
  });
});
