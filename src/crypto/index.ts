/**
 * Hotkeys and every signature scheme ComputeHorde peers exchange, byte-exact with upstream. Call `initCrypto()` once
 * before using anything that signs or verifies.
 */
export { initCrypto, assertCryptoReady, CryptoNotReadyError } from './init';
export * from './defaults';
export * from './errors';
export {
  type Hotkey,
  type KeyFile,
  hotkeyFromSeed,
  hotkeyFromMnemonic,
  hotkeyFromSuri,
  hotkeyFromPrivateKey,
  hotkeyFromKeyFileJson,
  devHotkey,
  generateHotkey,
  keyFileOf,
  loadKeyFile,
  saveKeyFile,
  ss58FromPublicKey,
  publicKeyFromSs58,
  isValidSs58,
  verify,
  verifyWithPublicKey,
  signBlob,
  toHex0x,
  parseHexBytes,
} from './keys';
export {
  type Refusal,
  type ValidatorAuthForMiner,
  type ValidatorAuthRefusalCode,
  type VerifyValidatorAuthOptions,
  type V0AuthenticationRequest,
  type AuthenticationRefusalCode,
  type LoginRequest,
  validatorAuthBlob,
  signValidatorAuth,
  verifyValidatorAuth,
  buildAuthenticationRequest,
  verifyAuthenticationRequest,
  buildLoginRequest,
  verifyLoginSignature,
} from './auth';
export {
  type NonceOptions,
  type NonceRefusalCode,
  createLoginNonce,
  checkLoginNonce,
  base62Encode,
  base62Decode,
} from './nonce';
export {
  type ReceiptType,
  type ReceiptPayload,
  type JobStartedReceiptPayload,
  type JobAcceptedReceiptPayload,
  type JobFinishedReceiptPayload,
  type Receipt,
  type ReceiptRefusalCode,
  receiptBlob,
  pydanticDatetime,
  canonicalPydanticDatetime,
  signReceiptPayload,
  countersignReceipt,
  verifyValidatorReceiptSignature,
  verifyReceipt,
} from './receipts';
export { type StreamingReadyFields, streamingReadyBlob, signStreamingReady, verifyStreamingReady } from './streaming';
export {
  type Signature,
  type SignatureScope,
  type SignedFields,
  type StreamingDetails,
  type SignOptions,
  type SignatureRefusalCode,
  signedFieldsFromFacilitatorSdkJson,
  signedFieldsFromV2JobRequest,
  signedFieldsJson,
  toTimestampNs,
  hashMessageSignature,
  signPayload,
  verifySignature,
  signJobBody,
  signFullRequestBody,
  verifyRequestBodySignature,
  verifyV2JobRequestSignature,
  signatureToHeaders,
  signatureFromHeaders,
  signatureToJsonValue,
  signatureJson,
  signatureFromJson,
} from './signed-fields';
