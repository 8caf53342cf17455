import { HordeError } from '../util/errors';

/** A key (mnemonic, seed, SURI, secret key) cannot be turned into an sr25519 keypair. */
export class InvalidKeyError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('crypto.invalid_key', message, options);
  }
}

/** A key file is unreadable, not JSON, encrypted, or contradicts itself (address or public key mismatch). */
export class KeyFileError extends HordeError {
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('crypto.key_file_invalid', `${path}: ${message}`, options);
    this.path = path;
  }
}

/** Writing a key file would overwrite an existing one (pass `overwrite: true` to allow it). */
export class KeyFileExistsError extends HordeError {
  readonly path: string;

  constructor(path: string) {
    super('crypto.key_file_exists', `${path} already exists; refusing to overwrite a key`);
    this.path = path;
  }
}

/** A hotkey object did not come from this module, so its secret is unknown and it cannot be saved. */
export class UnknownHotkeyError extends HordeError {
  constructor() {
    super('crypto.unknown_hotkey', 'this Hotkey was not created by src/crypto/keys.ts; its secret cannot be saved');
  }
}

/** A V2JobRequest / SDK body cannot be turned into `SignedFields` (pydantic would reject it too). Lists every problem. */
export class SignedFieldsError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('crypto.signed_fields_invalid', `cannot build SignedFields: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** A `Signature` object or its `X-CH-*` headers are missing or malformed. */
export class SignatureFormatError extends HordeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('crypto.signature_format', message, options);
  }
}

/** A receipt payload has an unknown `receipt_type` or lacks a field its type declares. */
export class ReceiptPayloadError extends HordeError {
  constructor(message: string) {
    super('crypto.receipt_payload_invalid', message);
  }
}
