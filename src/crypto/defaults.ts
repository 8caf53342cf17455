/**
 * Every default and fixed constant of the crypto area. Constants that mirror an upstream value say where it lives;
 * changing one of those breaks interoperability with Python ComputeHorde peers.
 */

/** SS58 address format of Bittensor (the generic Substrate prefix). Upstream: `Keypair(..., ss58_format=42)`. */
export const SS58_PREFIX = 42;

/**
 * Oldest `ValidatorAuthForMiner.timestamp` a miner accepts. Upstream: `AUTH_MESSAGE_MAX_AGE = 10` (seconds) in the
 * miner's `validator_interface.py`. Longer widens the window in which a captured auth message can be replayed;
 * shorter rejects validators whose clocks lag behind the miner's.
 */
export const AUTH_MESSAGE_MAX_AGE_MS = 10_000;

/**
 * How far in the future a `ValidatorAuthForMiner.timestamp` may lie. Upstream has no such bound (a validator could
 * pre-sign a message for any future second and replay it until then); Horde refuses anything further ahead than the
 * past window, which keeps clocks that drift either way by up to 10 s working and caps a pre-signed message's
 * useful life at 20 s.
 */
export const AUTH_MESSAGE_MAX_FUTURE_SKEW_MS = 10_000;

/**
 * Lifetime of a REST login nonce. Upstream: `NONCE_LIFETIME = 300` (seconds) in the facilitator's settings. Shorter
 * makes slow clients fail to log in; longer lets a leaked nonce+signature pair be replayed for longer.
 */
export const NONCE_LIFETIME_MS = 300_000;

/** Random bytes in a login nonce. Upstream: `secrets.token_hex(16)`. */
export const NONCE_RANDOM_BYTES = 16;

/**
 * Django's default salt for a `TimestampSigner()` built without arguments (`"%s.%s" % (module, class)`). Upstream
 * nonces are signed with it; using the same salt keeps Horde's nonces verifiable by a Django facilitator sharing
 * the secret, and the other way round.
 */
export const NONCE_SIGNER_SALT = 'django.core.signing.TimestampSigner';

/** Unix mode of a written key file: owner read/write only (the file holds the secret seed). */
export const KEY_FILE_MODE = 0o600;

/**
 * Phrase behind Substrate's well-known development accounts (`//Alice`, `//Bob`...). Dev keys derived from it are
 * public knowledge: use them only on a local cluster, never on a real network.
 */
export const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';

/** Words in a mnemonic made by `generateHotkey()` (12 words = 128 bits, what `btcli` creates by default). */
export const GENERATED_MNEMONIC_WORDS = 12;

/** `signature_type` of every SDK signature upstream creates (the only one it verifies). */
export const BITTENSOR_SIGNATURE_TYPE = 'bittensor';

/** Prefix of the SDK's signature headers (`X-CH-Signature`, `X-CH-Signatory`, ...). Upstream: `prefix="X-CH-"`. */
export const SIGNATURE_HEADER_PREFIX = 'X-CH-';
