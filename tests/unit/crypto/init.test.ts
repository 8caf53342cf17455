import { CryptoNotReadyError, devHotkey, initCrypto, verify } from '../../../src/crypto';

// jest gives every test file its own module registry, so the WASM backend starts unloaded here
describe('initCrypto', () => {
  it('is required before keys are made, and verify stays false rather than throwing before it', async () => {
    expect(() => devHotkey('Alice')).toThrow(CryptoNotReadyError);
    expect(verify('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', 'x', new Uint8Array(64))).toBe(false);
    await initCrypto();
    await initCrypto();
    expect(devHotkey('Alice').ss58).toBe('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
  });
});
