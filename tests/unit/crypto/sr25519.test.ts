import { sr25519PairFromSeed, sr25519Sign, sr25519Verify } from '@polkadot/util-crypto';
import { initCrypto } from '../../../src/crypto';
import { sr25519SignMessage, sr25519VerifyMessage } from '../../../src/crypto/sr25519';

beforeAll(async () => {
  await initCrypto();
});

const pair = () => sr25519PairFromSeed(new Uint8Array(32).fill(7));
const message = new TextEncoder().encode('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY:5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty:1700000000');

describe('sr25519 on the WASM backend', () => {
  it('signs what the pure-JS implementation verifies', () => {
    const { publicKey, secretKey } = pair();
    expect(sr25519Verify(message, sr25519SignMessage(message, { publicKey, secretKey }), publicKey)).toBe(true);
  });

  it('verifies what the pure-JS implementation signs', () => {
    const keys = pair();
    expect(sr25519VerifyMessage(message, sr25519Sign(message, keys), keys.publicKey)).toBe(true);
  });

  it('rejects a signature with one bit flipped, another message and another key', () => {
    const keys = pair();
    const signature = sr25519SignMessage(message, keys);
    const flipped = Uint8Array.from(signature);
    flipped[10] = flipped[10]! ^ 1;
    expect(sr25519VerifyMessage(message, flipped, keys.publicKey)).toBe(false);
    expect(sr25519VerifyMessage(new TextEncoder().encode('other'), signature, keys.publicKey)).toBe(false);
    const other = sr25519PairFromSeed(new Uint8Array(32).fill(8));
    expect(sr25519VerifyMessage(message, signature, other.publicKey)).toBe(false);
  });

  it('randomises signatures: two of one message differ and both verify', () => {
    const keys = pair();
    const a = sr25519SignMessage(message, keys);
    const b = sr25519SignMessage(message, keys);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(sr25519VerifyMessage(message, a, keys.publicKey) && sr25519VerifyMessage(message, b, keys.publicKey)).toBe(true);
  });
});
