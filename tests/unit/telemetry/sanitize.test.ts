import { fieldWords, sanitize, secretFieldTest } from '../../../src/telemetry/sanitize';

describe('secret field names', () => {
  const isSecret = secretFieldTest();

  it.each([
    ['apiKey', true],
    ['signing_key', true],
    ['SIGNING_KEY', true],
    ['executorToken', true],
    ['executor_token', true],
    ['mnemonic', true],
    ['signature', true],
    ['validatorSignatures', true],
    ['privateKeyHex', true],
    ['x-api-key', true],
    ['password', true],
    ['hotkey', false],
    ['validator_hotkey', false],
    ['keyword', false],
    ['monkey', false],
    ['jobUuid', false],
  ])('%s is secret: %s', (name, secret) => {
    expect(isSecret(name)).toBe(secret);
  });

  it('splits camelCase, snake_case, kebab-case and acronyms into words', () => {
    expect(fieldWords('HTTPSigningKey_v2-x')).toEqual(['http', 'signing', 'key', 'v2', 'x']);
  });
});

describe('sanitize', () => {
  it('redacts secret fields at any depth and keeps the rest', () => {
    const input = {
      hotkey: '5FHneW46',
      wallet: { mnemonic: 'bottom drive obey lake', coldkey: { signingKey: 'abc' } },
      messages: [{ signature: '0xdead', payload: 'ok' }],
    };
    expect(sanitize(input)).toEqual({
      hotkey: '5FHneW46',
      wallet: { mnemonic: '[redacted]', coldkey: { signingKey: '[redacted]' } },
      messages: [{ signature: '[redacted]', payload: 'ok' }],
    });
  });

  it('leaves the input untouched', () => {
    const input = { token: 't' };
    sanitize(input);
    expect(input.token).toBe('t');
  });

  it('survives cycles, functions, errors, bigints, buffers, maps, sets and toJSON', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const shared = { v: 1 };
    const out = sanitize({
      cyclic,
      both: [shared, shared],
      fn: function send() {},
      error: Object.assign(new Error('boom'), { code: 'job.broken' }),
      big: 10n,
      bytes: new Uint8Array(4),
      map: new Map<string, unknown>([['apiKey', 'x'], ['n', 1]]),
      set: new Set([1, 2]),
      ref: { toJSON: () => ({ xstate$$type: 1, id: 'worker-1' }) },
    });
    expect(out).toEqual({
      cyclic: { name: 'loop', self: '[circular]' },
      both: [{ v: 1 }, { v: 1 }],
      fn: { type: 'send' },
      error: { name: 'Error', message: 'boom', code: 'job.broken' },
      big: '10',
      bytes: '[4 bytes]',
      map: { apiKey: '[redacted]', n: 1 },
      set: [1, 2],
      ref: { xstate$$type: 1, id: 'worker-1' },
    });
  });

  it('cuts values nested deeper than maxDepth', () => {
    expect(sanitize({ a: { b: { c: 1 } } }, { maxDepth: 2 })).toEqual({ a: { b: '[depth]' } });
  });
});
