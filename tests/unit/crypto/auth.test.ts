import { stringToU8a, u8aToHex } from '@polkadot/util';
import { manualClock } from '../../../src/util/clock';
import {
  AUTH_MESSAGE_MAX_AGE_MS,
  AUTH_MESSAGE_MAX_FUTURE_SKEW_MS,
  base62Decode,
  base62Encode,
  buildAuthenticationRequest,
  buildLoginRequest,
  checkLoginNonce,
  createLoginNonce,
  devHotkey,
  initCrypto,
  NONCE_LIFETIME_MS,
  signStreamingReady,
  signValidatorAuth,
  streamingReadyBlob,
  validatorAuthBlob,
  verify,
  verifyAuthenticationRequest,
  verifyLoginSignature,
  verifyStreamingReady,
  verifyValidatorAuth,
  type Hotkey,
} from '../../../src/crypto';

let validator: Hotkey;
let miner: Hotkey;
beforeAll(async () => {
  await initCrypto();
  validator = devHotkey('validator');
  miner = devHotkey('miner');
});

const START_MS = 1_737_000_000_000;

describe('ValidatorAuthForMiner', () => {
  it('signs "{validator}:{miner}:{timestamp}" with whole seconds', () => {
    const clock = manualClock(START_MS + 999);
    const auth = signValidatorAuth(validator, miner.ss58, clock);
    expect(auth).toMatchObject({
      message_type: 'ValidatorAuthForMiner',
      validator_hotkey: validator.ss58,
      miner_hotkey: miner.ss58,
      timestamp: START_MS / 1000,
    });
    expect(validatorAuthBlob(auth)).toBe(`${validator.ss58}:${miner.ss58}:1737000000`);
    expect(auth.signature).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verify(validator.ss58, validatorAuthBlob(auth), auth.signature)).toBe(true);
  });

  const options = (clock = manualClock(START_MS)) => ({
    expectedValidatorHotkey: validator.ss58,
    expectedMinerHotkey: miner.ss58,
    clock,
  });

  it('accepts a fresh message from the validator named in the URL', () => {
    const auth = signValidatorAuth(validator, miner.ss58, manualClock(START_MS));
    expect(verifyValidatorAuth(auth, options())).toEqual({ ok: true, value: undefined });
  });

  it('accepts a message exactly 10 s old and refuses one a second older', () => {
    const auth = signValidatorAuth(validator, miner.ss58, manualClock(START_MS));
    expect(verifyValidatorAuth(auth, options(manualClock(START_MS + AUTH_MESSAGE_MAX_AGE_MS))).ok).toBe(true);
    const stale = verifyValidatorAuth(auth, options(manualClock(START_MS + AUTH_MESSAGE_MAX_AGE_MS + 1000)));
    expect(stale).toMatchObject({ ok: false, error: { code: 'auth.too_old' } });
  });

  it('refuses a timestamp further ahead than the allowed skew', () => {
    const ahead = signValidatorAuth(validator, miner.ss58, manualClock(START_MS + AUTH_MESSAGE_MAX_FUTURE_SKEW_MS));
    expect(verifyValidatorAuth(ahead, options()).ok).toBe(true);
    const future = signValidatorAuth(validator, miner.ss58, manualClock(START_MS + AUTH_MESSAGE_MAX_FUTURE_SKEW_MS + 1000));
    expect(verifyValidatorAuth(future, options())).toMatchObject({ ok: false, error: { code: 'auth.from_future' } });
  });

  it('refuses a message meant for another miner, unless the miner check is off', () => {
    const auth = signValidatorAuth(validator, devHotkey('other-miner').ss58, manualClock(START_MS));
    expect(verifyValidatorAuth(auth, options())).toMatchObject({ ok: false, error: { code: 'auth.wrong_miner_hotkey' } });
    expect(verifyValidatorAuth(auth, { ...options(), expectedMinerHotkey: undefined }).ok).toBe(true);
  });

  it('refuses a message from a validator other than the one in the URL', () => {
    const intruder = devHotkey('intruder');
    const auth = signValidatorAuth(intruder, miner.ss58, manualClock(START_MS));
    expect(verifyValidatorAuth(auth, options())).toMatchObject({ ok: false, error: { code: 'auth.wrong_validator_hotkey' } });
  });

  it('refuses a tampered timestamp or a signature by another key', () => {
    const auth = signValidatorAuth(validator, miner.ss58, manualClock(START_MS));
    expect(verifyValidatorAuth({ ...auth, timestamp: auth.timestamp + 1 }, options())).toMatchObject({
      ok: false,
      error: { code: 'auth.bad_signature' },
    });
    const forged = { ...auth, signature: u8aToHex(miner.sign(stringToU8a(validatorAuthBlob(auth)))) };
    expect(verifyValidatorAuth(forged, options())).toMatchObject({ ok: false, error: { code: 'auth.bad_signature' } });
  });

  it('refuses malformed input without throwing', () => {
    for (const bad of [{}, { validator_hotkey: 1 }, { ...signValidatorAuth(validator, miner.ss58, manualClock(START_MS)), timestamp: 1.5 }]) {
      expect(verifyValidatorAuth(bad, options())).toMatchObject({ ok: false, error: { code: 'auth.malformed' } });
    }
  });
});

describe('V0AuthenticationRequest', () => {
  it('carries the bare-hex public key and a 0x signature over its bytes', () => {
    const request = buildAuthenticationRequest(validator);
    expect(Object.keys(request)).toEqual(['message_type', 'public_key', 'signature']);
    expect(request.public_key).toBe(u8aToHex(validator.publicKey).slice(2));
    expect(verify(validator.ss58, validator.publicKey, request.signature)).toBe(true);
    expect(verifyAuthenticationRequest(request)).toEqual({ ok: true, value: { ss58: validator.ss58 } });
  });

  it('refuses a signature made by another key', () => {
    const request = { ...buildAuthenticationRequest(validator), signature: buildAuthenticationRequest(miner).signature };
    expect(verifyAuthenticationRequest(request)).toMatchObject({ ok: false, error: { code: 'auth.bad_signature' } });
  });

  it('refuses someone else\'s public key with a replayed signature', () => {
    const request = { ...buildAuthenticationRequest(validator), public_key: u8aToHex(miner.publicKey).slice(2) };
    expect(verifyAuthenticationRequest(request).ok).toBe(false);
  });

  it('refuses malformed keys without throwing', () => {
    expect(verifyAuthenticationRequest({ public_key: 'zz', signature: '0x00' })).toMatchObject({
      ok: false,
      error: { code: 'auth.malformed' },
    });
    expect(verifyAuthenticationRequest({})).toMatchObject({ ok: false, error: { code: 'auth.malformed' } });
  });
});

describe('REST login', () => {
  const secret = 'horde-test-secret';

  it('produces the nonce Django\'s TimestampSigner produces', () => {
    // Python: TimestampSigner algorithm (sha256, salt django.core.signing.TimestampSigner) at t=1737000000
    const nonce = createLoginNonce({
      secret,
      clock: manualClock(START_MS),
      randomHex: () => '00112233445566778899aabbccddeeff',
    });
    expect(nonce).toBe('00112233445566778899aabbccddeeff:1tYH32:MwxDvfEm2pd14fy5YRQe7mS8I9BcmXEaLBUKRVdY8Ho');
  });

  it('makes a fresh 32-hex-digit token for every nonce', () => {
    const clock = manualClock(START_MS);
    const first = createLoginNonce({ secret, clock });
    expect(first).toMatch(/^[0-9a-f]{32}:[0-9A-Za-z]+:[A-Za-z0-9_-]{43}$/);
    expect(createLoginNonce({ secret, clock })).not.toBe(first);
  });

  it('accepts a nonce until its 300 s lifetime ends', () => {
    const clock = manualClock(START_MS);
    const nonce = createLoginNonce({ secret, clock });
    clock.advance(NONCE_LIFETIME_MS);
    expect(checkLoginNonce(nonce, { secret, clock })).toMatchObject({ ok: true, value: { issuedAtMs: START_MS } });
    clock.advance(1);
    expect(checkLoginNonce(nonce, { secret, clock })).toMatchObject({ ok: false, error: { code: 'nonce.expired' } });
  });

  it('refuses a nonce signed with another secret or altered in any part', () => {
    const clock = manualClock(START_MS);
    const nonce = createLoginNonce({ secret, clock });
    expect(checkLoginNonce(nonce, { secret: 'other', clock })).toMatchObject({ ok: false, error: { code: 'nonce.bad_signature' } });
    const [token, stamp, mac] = nonce.split(':') as [string, string, string];
    const later = base62Encode(base62Decode(stamp)! + 60);
    for (const altered of [`${token}0:${stamp}:${mac}`, `${token}:${later}:${mac}`, `${token}:${stamp}:${mac}x`]) {
      expect(checkLoginNonce(altered, { secret, clock }).ok).toBe(false);
    }
    expect(checkLoginNonce('no-colon', { secret, clock })).toMatchObject({ ok: false, error: { code: 'nonce.malformed' } });
  });

  it('signs the nonce text and verifies the bare-hex signature by hotkey', () => {
    const nonce = createLoginNonce({ secret, clock: manualClock(START_MS) });
    const body = buildLoginRequest(validator, nonce);
    expect(body.hotkey).toBe(validator.ss58);
    expect(body.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(verifyLoginSignature(body)).toBe(true);
    expect(verifyLoginSignature({ ...body, nonce: `${nonce}x` })).toBe(false);
    expect(verifyLoginSignature({ ...body, hotkey: miner.ss58 })).toBe(false);
    expect(verifyLoginSignature({})).toBe(false);
  });

  it('round-trips base62 the way Django does', () => {
    expect(base62Encode(0)).toBe('0');
    expect(base62Encode(61)).toBe('z');
    expect(base62Encode(62)).toBe('10');
    expect(base62Decode(base62Encode(1_737_000_000))).toBe(1_737_000_000);
    expect(base62Decode('!')).toBeUndefined();
  });
});

describe('streaming ready signature', () => {
  const fields = { job_uuid: '7b5c3a7e-0f51-4c7e-9d5e-3a2d1c0b9a88', ip: '10.1.2.3', port: 4443, public_key: 'PEM' };

  it('signs "{job_uuid}:{ip}:{port}:{public_key}", with None for a missing ip', () => {
    expect(streamingReadyBlob(fields)).toBe('7b5c3a7e-0f51-4c7e-9d5e-3a2d1c0b9a88:10.1.2.3:4443:PEM');
    expect(streamingReadyBlob({ ...fields, ip: null })).toBe('7b5c3a7e-0f51-4c7e-9d5e-3a2d1c0b9a88:None:4443:PEM');
  });

  it('verifies the miner\'s signature and refuses tampering or another signer', () => {
    const signature = signStreamingReady(miner, fields);
    expect(signature).toMatch(/^0x[0-9a-f]{128}$/);
    expect(verifyStreamingReady(miner.ss58, fields, signature)).toBe(true);
    expect(verifyStreamingReady(miner.ss58, { ...fields, ip: '6.6.6.6' }, signature)).toBe(false);
    expect(verifyStreamingReady(miner.ss58, { ...fields, port: 4444 }, signature)).toBe(false);
    expect(verifyStreamingReady(validator.ss58, fields, signature)).toBe(false);
    expect(verifyStreamingReady(miner.ss58, fields, null)).toBe(false);
  });
});
