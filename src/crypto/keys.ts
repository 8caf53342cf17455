/**
 * sr25519 hotkeys and SS58 addresses, compatible with bittensor's `Keypair` (which is what every upstream signature
 * is made and checked with).
 *
 * A `Hotkey` exposes its address, public key and a `sign` function, never its secret: the secret lives in a
 * module-private WeakMap, so logging or serialising a hotkey cannot leak it. Only key derivation and
 * `keyFileOf`/`saveKeyFile` read it.
 */
import { chmod, link, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hexToU8a, isHex, stringToU8a, u8aConcat, u8aToHex, u8aEq } from '@polkadot/util';
import {
  decodeAddress,
  encodeAddress,
  keyExtractSuri,
  keyFromPath,
  mnemonicGenerate,
  mnemonicToMiniSecret,
  mnemonicValidate,
  sr25519PairFromSeed,
} from '@polkadot/util-crypto';
import { DEV_PHRASE, GENERATED_MNEMONIC_WORDS, KEY_FILE_MODE, SS58_PREFIX } from './defaults';
import { InvalidKeyError, KeyFileError, KeyFileExistsError, UnknownHotkeyError } from './errors';
import { assertCryptoReady } from './init';
import { sr25519SignMessage, sr25519VerifyMessage } from './sr25519';

/**
 * An sr25519 signing identity (a Bittensor hotkey).
 *
 * @example
 * ```ts
 * const hotkey = devHotkey('validator');
 * const signature = hotkey.sign(new TextEncoder().encode('hello'));
 * verify(hotkey.ss58, 'hello', signature); // true
 * ```
 */
export interface Hotkey {
  /** SS58 address (prefix 42), the identity every peer knows this key by. */
  readonly ss58: string;
  /** 32-byte sr25519 public key. */
  readonly publicKey: Uint8Array;
  /** 64-byte sr25519 signature of `message` (randomised: two signatures of one message differ, both verify). */
  sign(message: Uint8Array): Uint8Array;
}

/**
 * The on-disk key format: bittensor's hotkey JSON, so a Horde key file works with `btcli`/bittensor-wallet and a
 * bittensor hotkey file works with Horde. Hex fields are `0x`-prefixed; absent secrets are `null`.
 *
 * - `secretSeed`: the 32-byte mini secret (`Keypair.create_from_seed`); present unless the key is derived.
 * - `secretPhrase`: the BIP39 mnemonic, when the key came from one (without derivation path or password).
 * - `privateKey`: the 64-byte sr25519 secret in schnorrkel's canonical form (`SecretKey::to_bytes`), as bittensor
 *   writes it. Derived keys (`//Alice`) have only this one.
 *
 * On load, `secretSeed` wins over `secretPhrase`, which wins over `privateKey` (bittensor's order). Horde also reads
 * `{ "suri": "//Alice" }` for hand-written development files.
 */
export interface KeyFile {
  readonly accountId: string;
  readonly publicKey: string;
  readonly privateKey: string;
  readonly secretPhrase: string | null;
  readonly secretSeed: string | null;
  readonly ss58Address: string;
}

interface Secret {
  /** polkadot-js form of the secret key: the scalar multiplied by the cofactor (`to_ed25519_bytes`) + nonce. */
  readonly secretKey: Uint8Array;
  readonly secretSeed?: Uint8Array;
  readonly secretPhrase?: string;
}

const secrets = new WeakMap<Hotkey, Secret>();

function makeHotkey(publicKey: Uint8Array, secret: Secret): Hotkey {
  const pair = { publicKey: Uint8Array.from(publicKey), secretKey: secret.secretKey };
  const hotkey: Hotkey = Object.freeze({
    ss58: encodeAddress(publicKey, SS58_PREFIX),
    publicKey: Uint8Array.from(publicKey),
    sign: (message: Uint8Array) => {
      assertCryptoReady();
      return sr25519SignMessage(message, pair);
    },
  });
  secrets.set(hotkey, secret);
  return hotkey;
}

/**
 * A hotkey from a 32-byte mini secret seed (`0x`-hex or bytes), like bittensor's `Keypair.create_from_seed`.
 *
 * @example
 * ```ts
 * hotkeyFromSeed('0xe73e22a9ea8a015e2882d125969b373506dd0906c716af040140a7e4ba39f61c').ss58;
 * ```
 */
export function hotkeyFromSeed(seed: string | Uint8Array): Hotkey {
  assertCryptoReady();
  const bytes = typeof seed === 'string' ? parseHexBytes(seed) : seed;
  if (bytes === undefined || bytes.length !== 32) {
    throw new InvalidKeyError('a secret seed must be 32 bytes of hex (0x + 64 hex digits)');
  }
  const pair = sr25519PairFromSeed(bytes);
  return makeHotkey(pair.publicKey, { secretKey: pair.secretKey, secretSeed: Uint8Array.from(bytes) });
}

/**
 * A hotkey from a BIP39 mnemonic, like bittensor's `Keypair.create_from_mnemonic` (mini secret = BIP39 entropy
 * stretched with PBKDF2, the Substrate convention).
 *
 * @example
 * ```ts
 * const hotkey = hotkeyFromMnemonic('bottom drive obey lake curtain smoke basket hold race lonely fit walk');
 * ```
 */
export function hotkeyFromMnemonic(mnemonic: string, password = ''): Hotkey {
  assertCryptoReady();
  const phrase = mnemonic.trim().split(/\s+/).join(' ');
  if (!mnemonicValidate(phrase)) throw new InvalidKeyError('not a valid BIP39 mnemonic (word list or checksum)');
  const seed = mnemonicToMiniSecret(phrase, password);
  const pair = sr25519PairFromSeed(seed);
  return makeHotkey(pair.publicKey, {
    secretKey: pair.secretKey,
    secretSeed: seed,
    ...(password === '' ? { secretPhrase: phrase } : {}),
  });
}

/**
 * A hotkey from a Substrate secret URI `<mnemonic|0xseed>[//hard][/soft][///password]`, like bittensor's
 * `Keypair.create_from_uri`. A URI that starts with `/` derives from the public development phrase, so
 * `hotkeyFromSuri('//Alice')` is Substrate's well-known Alice (5GrwvaEF...).
 *
 * @example
 * ```ts
 * hotkeyFromSuri('//Alice').ss58; // '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'
 * ```
 */
export function hotkeyFromSuri(suri: string): Hotkey {
  assertCryptoReady();
  const full = suri.startsWith('/') ? `${DEV_PHRASE}${suri}` : suri.trim();
  let parts: ReturnType<typeof keyExtractSuri>;
  try {
    parts = keyExtractSuri(full);
  } catch (error) {
    throw new InvalidKeyError('not a secret URI (<mnemonic or 0x-seed>[//hard][/soft][///password])', {
      cause: error,
    });
  }
  const password = parts.password ?? '';
  const root = isHex(parts.phrase)
    ? password === ''
      ? hotkeyFromSeed(parts.phrase)
      : fail('a password (///) only applies to a mnemonic, not to a hex seed')
    : parts.phrase === DEV_PHRASE && password === ''
      ? devRoot()
      : hotkeyFromMnemonic(parts.phrase, password);
  if (parts.path.length === 0) return root;
  const rootSecret = secrets.get(root)!;
  let derived: { publicKey: Uint8Array; secretKey: Uint8Array };
  try {
    derived = keyFromPath({ publicKey: root.publicKey, secretKey: rootSecret.secretKey }, parts.path, 'sr25519');
  } catch (error) {
    throw new InvalidKeyError(`cannot derive ${parts.derivePath}`, { cause: error });
  }
  return makeHotkey(derived.publicKey, { secretKey: derived.secretKey });
}

let devRootHotkey: Hotkey | undefined;

// the dev phrase is public, so caching its root costs no secrecy and saves a PBKDF2 run per dev key
function devRoot(): Hotkey {
  devRootHotkey ??= hotkeyFromMnemonic(DEV_PHRASE);
  return devRootHotkey;
}

/**
 * A deterministic development hotkey: `//<name>` derived from Substrate's public dev phrase. `devHotkey('Alice')` is
 * the well-known Alice; a local cluster can use `devHotkey('validator')`, `devHotkey('miner-1')`. Everyone can
 * recompute these keys: never use them on a real network.
 *
 * @example
 * ```ts
 * const validator = devHotkey('validator');
 * ```
 */
export function devHotkey(name: string): Hotkey {
  if (name.length === 0 || name.includes('/')) {
    throw new InvalidKeyError(`a dev key name must be non-empty and contain no '/': ${JSON.stringify(name)}`);
  }
  return hotkeyFromSuri(`//${name}`);
}

/**
 * A fresh random hotkey from a new 12-word mnemonic (the mnemonic is kept so `saveKeyFile` can write it).
 *
 * @example
 * ```ts
 * const hotkey = generateHotkey();
 * await saveKeyFile('hotkey.json', hotkey);
 * ```
 */
export function generateHotkey(): Hotkey {
  assertCryptoReady();
  return hotkeyFromMnemonic(mnemonicGenerate(GENERATED_MNEMONIC_WORDS));
}

/**
 * A hotkey from bittensor's `privateKey` (64 bytes, schnorrkel canonical form) and its public key. The pair is
 * checked by signing and verifying a probe, so a mismatched file fails here rather than at the first peer.
 */
export function hotkeyFromPrivateKey(privateKey: string | Uint8Array, publicKey: string | Uint8Array): Hotkey {
  assertCryptoReady();
  const secret = typeof privateKey === 'string' ? parseHexBytes(privateKey) : privateKey;
  const pub = typeof publicKey === 'string' ? parseHexBytes(publicKey) : publicKey;
  if (secret === undefined || secret.length !== 64) throw new InvalidKeyError('privateKey must be 64 bytes of hex');
  if (pub === undefined || pub.length !== 32) throw new InvalidKeyError('publicKey must be 32 bytes of hex');
  const secretKey = u8aConcat(multiplyByCofactor(secret.subarray(0, 32)), secret.subarray(32));
  const probe = stringToU8a('horde key probe');
  let matches: boolean;
  try {
    matches = sr25519VerifyMessage(probe, sr25519SignMessage(probe, { publicKey: pub, secretKey }), pub);
  } catch {
    // polkadot throws on a malformed secret; that is the same verdict as a mismatch
    matches = false;
  }
  if (!matches) throw new InvalidKeyError('privateKey does not belong to publicKey');
  return makeHotkey(pub, { secretKey });
}

/** The key file content of a hotkey made by this module (holds its secret: write it with mode 0600 only). */
export function keyFileOf(hotkey: Hotkey): KeyFile {
  const secret = secrets.get(hotkey);
  if (secret === undefined) throw new UnknownHotkeyError();
  const publicKey = u8aToHex(hotkey.publicKey);
  return {
    accountId: publicKey,
    publicKey,
    privateKey: u8aToHex(
      u8aConcat(divideByCofactor(secret.secretKey.subarray(0, 32)), secret.secretKey.subarray(32)),
    ),
    secretPhrase: secret.secretPhrase ?? null,
    secretSeed: secret.secretSeed === undefined ? null : u8aToHex(secret.secretSeed),
    ss58Address: hotkey.ss58,
  };
}

/**
 * Reads a hotkey from parsed key-file JSON (Horde's, which is bittensor's, or `{ "suri": ... }`). `source` names the
 * file in errors. Fields that are present must agree with each other (address, public key).
 */
export function hotkeyFromKeyFileJson(json: unknown, source = 'key file'): Hotkey {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new KeyFileError(source, 'expected a JSON object');
  }
  const data = json as Record<string, unknown>;
  const text = (field: string): string | undefined => {
    const value = data[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw new KeyFileError(source, `${field} must be a string`);
    return value;
  };
  let hotkey: Hotkey;
  try {
    const seed = text('secretSeed');
    const phrase = text('secretPhrase');
    const privateKey = text('privateKey');
    const suri = text('suri');
    const publicKey = text('publicKey');
    if (seed !== undefined) hotkey = hotkeyFromSeed(seed);
    else if (phrase !== undefined) hotkey = hotkeyFromMnemonic(phrase);
    else if (suri !== undefined) hotkey = hotkeyFromSuri(suri);
    else if (privateKey !== undefined && publicKey !== undefined) hotkey = hotkeyFromPrivateKey(privateKey, publicKey);
    else throw new KeyFileError(source, 'no secret found (secretSeed, secretPhrase, privateKey+publicKey or suri)');
  } catch (error) {
    if (error instanceof KeyFileError) throw error;
    throw new KeyFileError(source, error instanceof Error ? error.message : String(error), { cause: error });
  }
  const address = text('ss58Address');
  if (address !== undefined && address !== hotkey.ss58) {
    throw new KeyFileError(source, `ss58Address ${address} does not match the secret (which gives ${hotkey.ss58})`);
  }
  const publicKey = text('publicKey');
  if (publicKey !== undefined) {
    const bytes = parseHexBytes(publicKey);
    if (bytes === undefined || !u8aEq(bytes, hotkey.publicKey)) {
      throw new KeyFileError(source, 'publicKey does not match the secret');
    }
  }
  return hotkey;
}

/**
 * Loads a hotkey from a key file. Encrypted bittensor files (`$NACL...`, `$BT...`) are refused with a clear error:
 * hotkeys are stored unencrypted by convention.
 *
 * @example
 * ```ts
 * const hotkey = await loadKeyFile(`${process.env.HOME}/.bittensor/wallets/default/hotkeys/default`);
 * ```
 */
export async function loadKeyFile(path: string): Promise<Hotkey> {
  let content: string;
  try {
    content = await readFile(path, 'utf8');
  } catch (error) {
    throw new KeyFileError(path, `cannot read: ${(error as Error).message}`, { cause: error });
  }
  const trimmed = content.trimStart();
  if (trimmed.startsWith('$NACL') || trimmed.startsWith('$BT')) {
    throw new KeyFileError(path, 'the key file is encrypted; decrypt it (or use an unencrypted hotkey) first');
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new KeyFileError(path, 'not JSON', { cause: error });
  }
  return hotkeyFromKeyFileJson(json, path);
}

/**
 * Writes `hotkey` as a key file with mode 0600, creating parent directories. Refuses to replace an existing file
 * unless `overwrite` is set. The content goes to a temporary file first and is then linked (or, to overwrite,
 * renamed) into place, so a crash never leaves a half-written key behind and the no-overwrite check is atomic.
 *
 * @example
 * ```ts
 * await saveKeyFile('keys/miner.json', generateHotkey());
 * ```
 */
export async function saveKeyFile(path: string, hotkey: Hotkey, options: { overwrite?: boolean } = {}): Promise<void> {
  const content = `${JSON.stringify(keyFileOf(hotkey), null, 2)}\n`;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temporary, 'wx', KEY_FILE_MODE);
  try {
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    // the create mode passed through the process umask; make it exactly 0600
    await chmod(temporary, KEY_FILE_MODE);
    if (options.overwrite === true) {
      await rename(temporary, path);
      return;
    }
    try {
      await link(temporary, path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyFileExistsError(path);
      throw error;
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/** The SS58 address (prefix 42) of a 32-byte public key. */
export function ss58FromPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new InvalidKeyError('an sr25519 public key is 32 bytes');
  return encodeAddress(publicKey, SS58_PREFIX);
}

/**
 * The public key behind an SS58 address, or `undefined` if it is not a valid 32-byte SS58 address (bad checksum,
 * bad alphabet, hex instead of SS58). Any SS58 prefix is accepted, as bittensor's `Keypair(ss58_address=...)` does.
 */
export function publicKeyFromSs58(address: string): Uint8Array | undefined {
  if (typeof address !== 'string' || address.length === 0 || isHex(address)) return undefined;
  try {
    const publicKey = decodeAddress(address);
    return publicKey.length === 32 ? publicKey : undefined;
  } catch {
    return undefined;
  }
}

/** True when `address` is a valid SS58 address of a 32-byte public key. */
export function isValidSs58(address: string): boolean {
  return publicKeyFromSs58(address) !== undefined;
}

/**
 * Verifies an sr25519 signature by SS58 address. `message` is bytes or text (UTF-8); `signature` is 64 bytes or hex
 * (with or without `0x`). Never throws: a bad address, a malformed signature or a wrong key all give `false`.
 *
 * Like Substrate's `Keypair.verify`, a signature of `<Bytes>message</Bytes>` is also accepted (what the polkadot-js
 * browser extension signs).
 *
 * @example
 * ```ts
 * verify(hotkey.ss58, 'v:m:1700000000', '0x1234...'); // false
 * ```
 */
export function verify(address: string, message: Uint8Array | string, signature: Uint8Array | string): boolean {
  const publicKey = publicKeyFromSs58(address);
  if (publicKey === undefined) return false;
  return verifyWithPublicKey(publicKey, message, signature);
}

/** `verify` with the public key instead of its address. Never throws. */
export function verifyWithPublicKey(
  publicKey: Uint8Array,
  message: Uint8Array | string,
  signature: Uint8Array | string,
): boolean {
  const sig = typeof signature === 'string' ? parseHexBytes(signature) : signature;
  if (sig === undefined || sig.length !== 64 || publicKey.length !== 32) return false;
  try {
    const bytes = typeof message === 'string' ? stringToU8a(message) : message;
    assertCryptoReady();
    if (sr25519VerifyMessage(bytes, sig, publicKey)) return true;
    return sr25519VerifyMessage(u8aConcat(BYTES_PREFIX, bytes, BYTES_SUFFIX), sig, publicKey);
  } catch {
    return false;
  }
}

const BYTES_PREFIX = stringToU8a('<Bytes>');
const BYTES_SUFFIX = stringToU8a('</Bytes>');

/**
 * Upstream's `sign_blob`: signs the UTF-8 of `blob` and returns `"0x" + hex(signature)`, the form used by receipts,
 * `ValidatorAuthForMiner` and streaming-ready messages.
 */
export function signBlob(hotkey: Hotkey, blob: string): string {
  return u8aToHex(hotkey.sign(stringToU8a(blob)));
}

/** `0x`-prefixed lowercase hex of some bytes. */
export function toHex0x(bytes: Uint8Array): string {
  return u8aToHex(bytes);
}

/**
 * Parses hex with or without `0x` (Python's `bytes.fromhex` accepts the bare form, `Keypair.verify` both) into
 * bytes; `undefined` for anything else (odd length, non-hex characters).
 */
export function parseHexBytes(text: string): Uint8Array | undefined {
  const bare = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (bare.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(bare)) return undefined;
  return hexToU8a(`0x${bare}`);
}

// schnorrkel keeps the secret scalar in two encodings: `to_bytes` (canonical, what bittensor writes as privateKey)
// and `to_ed25519_bytes` (scalar * 8, what polkadot-js's sr25519 functions take). These convert the 32-byte scalar.
function multiplyByCofactor(scalar: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const value = (scalar[i]! << 3) | carry;
    out[i] = value & 0xff;
    carry = value >> 8;
  }
  return out;
}

function divideByCofactor(scalar: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    const high = i < 31 ? (scalar[i + 1]! & 0x07) << 5 : 0;
    out[i] = (scalar[i]! >> 3) | high;
  }
  return out;
}

function fail(message: string): never {
  throw new InvalidKeyError(message);
}
