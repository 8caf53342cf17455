import { createRestAuth, signJwt, verifyJwt } from '../../../src/actors/facilitator/auth';
import { buildLoginRequest, devHotkey, initCrypto } from '../../../src/crypto';
import { manualClock } from '../../../src/util/clock';

const secret = 'a-test-secret-of-some-length';

beforeAll(async () => {
  await initCrypto();
});

describe('JWT (HS256)', () => {
  it('accepts its own token until it expires', () => {
    const clock = manualClock(1_700_000_000_000);
    const token = signJwt('5Fuser', { secret, clock, lifetimeMs: 3_600_000 });
    expect(verifyJwt(token, { secret, clock })).toEqual({ ok: true, value: { sub: '5Fuser', iat: 1_700_000_000, exp: 1_700_003_600 } });
    clock.advance(3_600_000);
    expect(verifyJwt(token, { secret, clock })).toMatchObject({ ok: false, error: { code: 'auth.token_expired', detail: 'Token expired' } });
  });

  it.each([
    ['another secret', (t: string) => t, 'another-secret-entirely'],
    ['a changed payload', (t: string) => { const [h, , s] = t.split('.'); return `${h}.${Buffer.from('{"sub":"5Fevil","iat":1,"exp":99999999999}').toString('base64url')}.${s}`; }, secret],
    ['alg none', (t: string) => { const [, p] = t.split('.'); return `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`; }, secret],
    ['garbage', () => 'not-a-jwt', secret],
  ])('refuses a token with %s', (_what, mangle, verifySecret) => {
    const clock = manualClock(0);
    const token = mangle(signJwt('5Fuser', { secret, clock }));
    expect(verifyJwt(token, { secret: verifySecret, clock })).toMatchObject({ ok: false, error: { code: 'auth.token_invalid' } });
  });
});

describe('REST login', () => {
  it('logs a whitelisted hotkey in with a fresh nonce and authenticates its bearer token', () => {
    const user = devHotkey('facilitator-auth-user');
    const clock = manualClock(1_700_000_000_000);
    const auth = createRestAuth({ secret, clock, whitelist: new Set([user.ss58]) });
    const token = auth.login(buildLoginRequest(user, auth.nonce()));
    if (!token.ok) throw new Error(token.error.detail);
    expect(auth.authenticate(`Bearer ${token.value}`)).toEqual({ ok: true, value: user.ss58 });
    expect(auth.authenticate(undefined)).toMatchObject({ ok: false, error: { code: 'auth.token_missing' } });
  });

  it('refuses a hotkey not on the whitelist, a bad signature and an expired nonce', () => {
    const user = devHotkey('facilitator-auth-user');
    const stranger = devHotkey('facilitator-auth-stranger');
    const clock = manualClock(1_700_000_000_000);
    const auth = createRestAuth({ secret, clock, whitelist: new Set([user.ss58]) });
    expect(auth.login(buildLoginRequest(stranger, auth.nonce()))).toMatchObject({ ok: false, error: { code: 'auth.not_whitelisted' } });
    const forged = { ...buildLoginRequest(user, auth.nonce()), signature: buildLoginRequest(stranger, 'x').signature };
    expect(auth.login(forged)).toMatchObject({ ok: false, error: { code: 'auth.login_refused' } });
    const nonce = auth.nonce();
    clock.advance(301_000);
    expect(auth.login(buildLoginRequest(user, nonce))).toMatchObject({ ok: false, error: { detail: 'Nonce expired' } });
  });
});
