import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringToU8a, u8aToHex } from '@polkadot/util';
import {
  devHotkey,
  generateHotkey,
  hotkeyFromKeyFileJson,
  hotkeyFromMnemonic,
  hotkeyFromPrivateKey,
  hotkeyFromSeed,
  hotkeyFromSuri,
  initCrypto,
  isValidSs58,
  keyFileOf,
  KeyFileError,
  KeyFileExistsError,
  loadKeyFile,
  publicKeyFromSs58,
  saveKeyFile,
  signBlob,
  ss58FromPublicKey,
  UnknownHotkeyError,
  verify,
  InvalidKeyError,
} from '../../../src/crypto';
import { UPSTREAM_MINER_HOTKEY_FILE, UPSTREAM_VALIDATOR_HOTKEY_FILE } from './vectors';

beforeAll(async () => {
  await initCrypto();
});

let directory: string;
beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'horde-keys-'));
});
afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

describe('loading hotkeys', () => {
  it('derives the address bittensor wrote for a seed, a mnemonic and a private key', () => {
    for (const file of [UPSTREAM_MINER_HOTKEY_FILE, UPSTREAM_VALIDATOR_HOTKEY_FILE]) {
      expect(hotkeyFromSeed(file.secretSeed).ss58).toBe(file.ss58Address);
      expect(hotkeyFromMnemonic(file.secretPhrase).ss58).toBe(file.ss58Address);
      expect(hotkeyFromPrivateKey(file.privateKey, file.publicKey).ss58).toBe(file.ss58Address);
    }
  });

  it('reads a bittensor hotkey file as it is', () => {
    const hotkey = hotkeyFromKeyFileJson(UPSTREAM_MINER_HOTKEY_FILE);
    expect(hotkey.ss58).toBe(UPSTREAM_MINER_HOTKEY_FILE.ss58Address);
    expect(u8aToHex(hotkey.publicKey)).toBe(UPSTREAM_MINER_HOTKEY_FILE.publicKey);
  });

  it('falls back to the private key when a bittensor file has no seed or phrase', () => {
    const { secretSeed: _s, secretPhrase: _p, ...rest } = UPSTREAM_VALIDATOR_HOTKEY_FILE;
    const hotkey = hotkeyFromKeyFileJson(rest);
    expect(hotkey.ss58).toBe(UPSTREAM_VALIDATOR_HOTKEY_FILE.ss58Address);
    expect(verify(hotkey.ss58, 'probe', hotkey.sign(stringToU8a('probe')))).toBe(true);
  });

  it('writes the private key in the form bittensor writes it', () => {
    const hotkey = hotkeyFromSeed(UPSTREAM_MINER_HOTKEY_FILE.secretSeed);
    expect(keyFileOf(hotkey)).toEqual({
      accountId: UPSTREAM_MINER_HOTKEY_FILE.accountId,
      publicKey: UPSTREAM_MINER_HOTKEY_FILE.publicKey,
      privateKey: UPSTREAM_MINER_HOTKEY_FILE.privateKey,
      secretPhrase: null,
      secretSeed: UPSTREAM_MINER_HOTKEY_FILE.secretSeed,
      ss58Address: UPSTREAM_MINER_HOTKEY_FILE.ss58Address,
    });
  });

  it('refuses a file whose address contradicts its secret', () => {
    expect(() =>
      hotkeyFromKeyFileJson({ ...UPSTREAM_MINER_HOTKEY_FILE, ss58Address: UPSTREAM_VALIDATOR_HOTKEY_FILE.ss58Address }),
    ).toThrow(KeyFileError);
    expect(() =>
      hotkeyFromKeyFileJson({ ...UPSTREAM_MINER_HOTKEY_FILE, publicKey: UPSTREAM_VALIDATOR_HOTKEY_FILE.publicKey }),
    ).toThrow(/publicKey does not match/);
  });

  it('refuses a private key that does not belong to the public key', () => {
    expect(() => hotkeyFromPrivateKey(UPSTREAM_MINER_HOTKEY_FILE.privateKey, UPSTREAM_VALIDATOR_HOTKEY_FILE.publicKey)).toThrow(
      InvalidKeyError,
    );
  });

  it('refuses bad mnemonics and seeds with a named error', () => {
    expect(() => hotkeyFromMnemonic('not a real mnemonic at all')).toThrow(InvalidKeyError);
    expect(() => hotkeyFromSeed('0x1234')).toThrow(InvalidKeyError);
    expect(() => hotkeyFromKeyFileJson({ ss58Address: UPSTREAM_MINER_HOTKEY_FILE.ss58Address })).toThrow(/no secret found/);
    expect(() => hotkeyFromKeyFileJson([])).toThrow(KeyFileError);
  });
});

describe('development keys', () => {
  it('derives the well-known Substrate accounts from //Name', () => {
    expect(devHotkey('Alice').ss58).toBe('5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY');
    expect(hotkeyFromSuri('//Bob').ss58).toBe('5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty');
  });

  it('gives the same key for the same name and different keys for different names', () => {
    expect(devHotkey('validator').ss58).toBe(devHotkey('validator').ss58);
    expect(devHotkey('validator').ss58).not.toBe(devHotkey('miner').ss58);
  });

  it('refuses names that would change the derivation path', () => {
    expect(() => devHotkey('')).toThrow(InvalidKeyError);
    expect(() => devHotkey('a/b')).toThrow(InvalidKeyError);
  });

  it('keeps a derived key through a key file (private key only)', () => {
    const alice = devHotkey('Alice');
    const file = keyFileOf(alice);
    expect(file.secretSeed).toBeNull();
    expect(hotkeyFromKeyFileJson(file).ss58).toBe(alice.ss58);
  });

  it('derives from a hex seed with a path, and refuses a password on a hex seed', () => {
    const seed = UPSTREAM_MINER_HOTKEY_FILE.secretSeed;
    const derived = hotkeyFromSuri(`${seed}//horde`);
    expect(derived.ss58).not.toBe(UPSTREAM_MINER_HOTKEY_FILE.ss58Address);
    expect(hotkeyFromSuri(`${seed}//horde`).ss58).toBe(derived.ss58);
    expect(hotkeyFromSuri(seed).ss58).toBe(UPSTREAM_MINER_HOTKEY_FILE.ss58Address);
    expect(() => hotkeyFromSuri(`${seed}///pw`)).toThrow(/password/);
    expect(() => hotkeyFromSuri('')).toThrow(InvalidKeyError);
  });

  it('reads a hand-written {"suri": ...} file', () => {
    expect(hotkeyFromKeyFileJson({ suri: '//Alice' }).ss58).toBe(devHotkey('Alice').ss58);
  });
});

describe('key files on disk', () => {
  it('saves with mode 0600 and loads the same key back, mnemonic included', async () => {
    const hotkey = generateHotkey();
    const path = join(directory, 'nested', 'hotkey.json');
    await saveKeyFile(path, hotkey);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(path, 'utf8')) as { secretPhrase: string };
    expect(saved.secretPhrase.split(' ')).toHaveLength(12);
    expect((await loadKeyFile(path)).ss58).toBe(hotkey.ss58);
  });

  it('refuses to overwrite an existing key unless asked, and leaves no temporary file', async () => {
    const path = join(directory, 'hotkey.json');
    const first = generateHotkey();
    await saveKeyFile(path, first);
    await expect(saveKeyFile(path, generateHotkey())).rejects.toThrow(KeyFileExistsError);
    expect((await loadKeyFile(path)).ss58).toBe(first.ss58);
    const second = generateHotkey();
    await saveKeyFile(path, second, { overwrite: true });
    expect((await loadKeyFile(path)).ss58).toBe(second.ss58);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(directory)).toEqual(['hotkey.json']);
  });

  it('refuses encrypted, non-JSON and missing files with the path in the message', async () => {
    const encrypted = join(directory, 'coldkey');
    await writeFile(encrypted, '$NACLabcdef');
    await expect(loadKeyFile(encrypted)).rejects.toThrow(/encrypted/);
    const garbage = join(directory, 'garbage');
    await writeFile(garbage, 'not json');
    await expect(loadKeyFile(garbage)).rejects.toThrow(`${garbage}: not JSON`);
    await expect(loadKeyFile(join(directory, 'missing'))).rejects.toThrow(KeyFileError);
  });

  it('cannot save a Hotkey it did not create', () => {
    const fake = { ss58: 'x', publicKey: new Uint8Array(32), sign: () => new Uint8Array(64) };
    expect(() => keyFileOf(fake)).toThrow(UnknownHotkeyError);
  });

  it('does not reveal the secret when a hotkey is serialised', () => {
    const hotkey = hotkeyFromSeed(UPSTREAM_MINER_HOTKEY_FILE.secretSeed);
    const text = JSON.stringify(hotkey);
    expect(text).not.toContain(UPSTREAM_MINER_HOTKEY_FILE.secretSeed.slice(2, 20));
    expect(text).toContain(hotkey.ss58);
  });
});

describe('verify', () => {
  const alice = () => devHotkey('Alice');

  it('accepts a signature by the address, in bytes or hex, with or without 0x', () => {
    const signature = alice().sign(stringToU8a('message'));
    expect(verify(alice().ss58, 'message', signature)).toBe(true);
    expect(verify(alice().ss58, stringToU8a('message'), u8aToHex(signature))).toBe(true);
    expect(verify(alice().ss58, 'message', u8aToHex(signature).slice(2))).toBe(true);
    expect(verify(alice().ss58, 'message', signBlob(alice(), 'message'))).toBe(true);
  });

  it('refuses a tampered message, another key, or a malformed signature without throwing', () => {
    const signature = alice().sign(stringToU8a('message'));
    expect(verify(alice().ss58, 'messagE', signature)).toBe(false);
    expect(verify(devHotkey('Bob').ss58, 'message', signature)).toBe(false);
    expect(verify(alice().ss58, 'message', signature.subarray(0, 63))).toBe(false);
    expect(verify(alice().ss58, 'message', '0xnothex')).toBe(false);
    expect(verify(alice().ss58, 'message', '')).toBe(false);
  });

  it('refuses bad addresses without throwing', () => {
    const signature = alice().sign(stringToU8a('message'));
    const address = alice().ss58;
    const broken = address.slice(0, -1) + (address.endsWith('Y') ? 'Z' : 'Y');
    for (const bad of [broken, '', 'not-an-address', u8aToHex(alice().publicKey)]) {
      expect(verify(bad, 'message', signature)).toBe(false);
      expect(isValidSs58(bad)).toBe(false);
      expect(publicKeyFromSs58(bad)).toBeUndefined();
    }
  });

  it('accepts a signature of the <Bytes>-wrapped message, like substrate Keypair.verify', () => {
    const wrapped = alice().sign(stringToU8a('<Bytes>message</Bytes>'));
    expect(verify(alice().ss58, 'message', wrapped)).toBe(true);
  });

  it('round-trips an address through its public key', () => {
    expect(ss58FromPublicKey(publicKeyFromSs58(alice().ss58)!)).toBe(alice().ss58);
  });
});
