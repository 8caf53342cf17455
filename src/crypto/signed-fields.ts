/**
 * The SDK job signature (upstream `compute_horde_core/signature.py` and `fv_protocol/facilitator_requests.py`).
 *
 * The SDK signs a job request; the facilitator checks it (HTTP middleware) and forwards it inside
 * `V2JobRequest.signature`; the validator re-checks it. Byte-exact recipe:
 *
 * 1. `SignedFields` = 14 fields picked from the request (`executor_class, docker_image, args, env, use_gpu,
 *    artifacts_dir, on_trusted_miner, download_time_limit, execution_time_limit, upload_time_limit,
 *    streaming_start_time_limit, streaming_details, volumes, uploads`), written by pydantic's `model_dump_json()`:
 *    compact, declared order, raw UTF-8. The SDK and facilitator build it from the REST body (volumes/uploads
 *    copied as they are); the validator builds it from `V2JobRequest` (one volume or a multi_volume's list, one
 *    upload or a multi_upload's list, each dumped with all its model fields in declared order).
 * 2. That JSON *string* goes through `json.dumps(payload, sort_keys=True)` again, because the hash function encodes
 *    any non-bytes payload: the signed bytes are the string as a quoted, ASCII-escaped JSON literal.
 * 3. digest = blake2b-512(`timestamp_ns` as 8 bytes big-endian ‖ those bytes); the sr25519 signature of the digest
 *    travels base64-encoded.
 *
 * `timestamp_ns` (~1.7e18) does not fit a JavaScript number: it is a `bigint` here. Callers pass it as a bigint or a
 * decimal string, and parse wire JSON that carries it with `parseJson` (src/protocol/json), which keeps it a `bigint`.
 */
import { blake2AsU8a } from '@polkadot/util-crypto';
import { u8aConcat } from '@polkadot/util';
import type { Clock } from '../util/clock';
import { err, ok, type Result } from '../util/result';
import type { Refusal } from './auth';
import { BITTENSOR_SIGNATURE_TYPE, SIGNATURE_HEADER_PREFIX } from './defaults';
import { SignatureFormatError, SignedFieldsError } from './errors';
import { publicKeyFromSs58, verifyWithPublicKey, type Hotkey } from './keys';
import { pydanticJsonDumps, pythonJsonDumps, type JsonInput } from '../protocol/json';

export type SignatureScope = 'SignedFields' | 'FullRequest';

/** Upstream's `Signature` model. `signature` is base64 text, as on the wire. */
export interface Signature {
  readonly signature_type: string;
  /** SS58 address of the signer. */
  readonly signatory: string;
  /** Unix time in nanoseconds when the signature was made. */
  readonly timestamp_ns: bigint;
  /** base64 of the 64-byte sr25519 signature. */
  readonly signature: string;
  readonly signature_scope: SignatureScope;
}

/** `StreamingDetails` as pydantic dumps it. */
export interface StreamingDetails {
  readonly public_key: string;
  readonly executor_ip: string | null;
}

/** `SignedFields`, keys in pydantic's declared order (the order `signedFieldsJson` writes them in). */
export interface SignedFields {
  readonly executor_class: string;
  readonly docker_image: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly use_gpu: boolean;
  readonly artifacts_dir: string;
  readonly on_trusted_miner: boolean;
  readonly download_time_limit: number;
  readonly execution_time_limit: number;
  readonly upload_time_limit: number;
  readonly streaming_start_time_limit: number;
  readonly streaming_details: StreamingDetails | null;
  readonly volumes: readonly JsonInput[];
  readonly uploads: readonly JsonInput[];
}

type Json = Readonly<Record<string, unknown>>;

/** Collects every problem before failing, so one error message lists them all. */
class Checker {
  readonly problems: string[] = [];

  fail(path: string, expected: string, value: unknown): undefined {
    this.problems.push(`${path}: expected ${expected}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
    return undefined;
  }

  str(path: string, value: unknown): string {
    return typeof value === 'string' ? value : (this.fail(path, 'a string', value) ?? '');
  }

  optionalStr(path: string, value: unknown): string | null {
    return value === undefined || value === null ? null : this.str(path, value);
  }

  /** pydantic's lax int: an integral number or a string of digits. */
  int(path: string, value: unknown): number {
    if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
    if (typeof value === 'string' && /^\s*[-+]?\d+\s*$/.test(value) && Number.isSafeInteger(Number(value))) {
      return Number(value);
    }
    return this.fail(path, 'an int', value) ?? 0;
  }

  /** pydantic's lax bool: booleans, 0/1 and its accepted words. */
  bool(path: string, value: unknown): boolean {
    if (typeof value === 'boolean') return value;
    if (value === 0 || value === 1) return value === 1;
    if (typeof value === 'string') {
      const word = value.trim().toLowerCase();
      if (['1', 'on', 't', 'true', 'y', 'yes'].includes(word)) return true;
      if (['0', 'off', 'f', 'false', 'n', 'no'].includes(word)) return false;
    }
    return this.fail(path, 'a bool', value) ?? false;
  }

  strList(path: string, value: unknown): string[] {
    if (!Array.isArray(value)) return this.fail(path, 'a list of strings', value) ?? [];
    return value.map((item, index) => this.str(`${path}[${index}]`, item));
  }

  strMap(path: string, value: unknown): Record<string, string> {
    if (!isPlainObject(value)) return this.fail(path, 'an object of strings', value) ?? {};
    const out: Record<string, string> = {};
    for (const [key, item] of Object.entries(value)) out[key] = this.str(`${path}.${key}`, item);
    return out;
  }

  optionalStrMap(path: string, value: unknown): Record<string, string> | null {
    return value === undefined || value === null ? null : this.strMap(path, value);
  }

  jsonList(path: string, value: unknown): JsonInput[] {
    if (!Array.isArray(value)) return this.fail(path, 'a list', value) ?? [];
    return value as JsonInput[];
  }

  object(path: string, value: unknown): Json | undefined {
    return isPlainObject(value) ? value : this.fail(path, 'an object', value);
  }
}

function isPlainObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Map);
}

function streamingDetails(check: Checker, path: string, value: unknown): StreamingDetails | null {
  const object = check.object(path, value);
  if (object === undefined) return null;
  return {
    public_key: check.str(`${path}.public_key`, object['public_key']),
    executor_ip: check.optionalStr(`${path}.executor_ip`, object['executor_ip']),
  };
}

function assemble(check: Checker, fields: SignedFields): SignedFields {
  if (check.problems.length > 0) throw new SignedFieldsError(check.problems);
  // rebuilt key by key: the declared order is the signed order
  return {
    executor_class: fields.executor_class,
    docker_image: fields.docker_image,
    args: fields.args,
    env: fields.env,
    use_gpu: fields.use_gpu,
    artifacts_dir: fields.artifacts_dir,
    on_trusted_miner: fields.on_trusted_miner,
    download_time_limit: fields.download_time_limit,
    execution_time_limit: fields.execution_time_limit,
    upload_time_limit: fields.upload_time_limit,
    streaming_start_time_limit: fields.streaming_start_time_limit,
    streaming_details: fields.streaming_details,
    volumes: fields.volumes,
    uploads: fields.uploads,
  };
}

function pythonStr(value: unknown): string | undefined {
  if (value === undefined || value === null) return 'None';
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return undefined;
}

/**
 * `SignedFields.from_facilitator_sdk_json`: the SDK's and the facilitator's view, built from the REST body of
 * `POST /api/v1/job-docker/`. Missing fields take upstream's defaults (`use_gpu` false, limits 0, lists empty);
 * `volumes`/`uploads` are taken as they are. Throws `SignedFieldsError` listing every field pydantic would reject.
 *
 * @example
 * ```ts
 * const json = signedFieldsJson(signedFieldsFromFacilitatorSdkJson(body));
 * ```
 */
export function signedFieldsFromFacilitatorSdkJson(data: unknown): SignedFields {
  const check = new Checker();
  const body = check.object('body', data) ?? {};
  const executorClass = pythonStr(body['executor_class']);
  const has = (key: string) => Object.hasOwn(body, key);
  const artifactsDir = body['artifacts_dir'];
  return assemble(check, {
    executor_class: executorClass ?? check.fail('executor_class', 'a string', body['executor_class']) ?? '',
    docker_image: check.str('docker_image', has('docker_image') ? body['docker_image'] : ''),
    args: check.strList('args', has('args') ? body['args'] : []),
    env: check.strMap('env', has('env') ? body['env'] : {}),
    use_gpu: check.bool('use_gpu', has('use_gpu') ? body['use_gpu'] : false),
    // `data.get("artifacts_dir") or ""`: every falsy value becomes ""
    artifacts_dir:
      artifactsDir === undefined || artifactsDir === null || artifactsDir === '' || artifactsDir === false || artifactsDir === 0
        ? ''
        : check.str('artifacts_dir', artifactsDir),
    on_trusted_miner: check.bool('on_trusted_miner', has('on_trusted_miner') ? body['on_trusted_miner'] : false),
    download_time_limit: check.int('download_time_limit', has('download_time_limit') ? body['download_time_limit'] : 0),
    execution_time_limit: check.int('execution_time_limit', has('execution_time_limit') ? body['execution_time_limit'] : 0),
    upload_time_limit: check.int('upload_time_limit', has('upload_time_limit') ? body['upload_time_limit'] : 0),
    streaming_start_time_limit: check.int(
      'streaming_start_time_limit',
      has('streaming_start_time_limit') ? body['streaming_start_time_limit'] : 0,
    ),
    streaming_details: has('streaming_details') ? streamingDetails(check, 'streaming_details', body['streaming_details']) : null,
    volumes: check.jsonList('volumes', has('volumes') ? body['volumes'] : []),
    uploads: check.jsonList('uploads', has('uploads') ? body['uploads'] : []),
  });
}

type FieldSpec = readonly [name: string, kind: 'str' | 'optionalStr' | 'optionalStrMap' | 'patterns'];

// model_dump() of each volume / upload model: every declared field, in declared order
const VOLUME_FIELDS: Readonly<Record<string, readonly FieldSpec[]>> = {
  inline: [
    ['contents', 'str'],
    ['relative_path', 'optionalStr'],
  ],
  zip_url: [
    ['contents', 'str'],
    ['relative_path', 'optionalStr'],
  ],
  single_file: [
    ['url', 'str'],
    ['relative_path', 'str'],
  ],
  huggingface_volume: [
    ['repo_id', 'str'],
    ['repo_type', 'optionalStr'],
    ['revision', 'optionalStr'],
    ['relative_path', 'optionalStr'],
    ['allow_patterns', 'patterns'],
    ['token', 'optionalStr'],
  ],
};

const UPLOAD_FIELDS: Readonly<Record<string, readonly FieldSpec[]>> = {
  zip_and_http_post: [
    ['url', 'str'],
    ['form_fields', 'optionalStrMap'],
  ],
  zip_and_http_put: [['url', 'str']],
  single_file_post: [
    ['url', 'str'],
    ['form_fields', 'optionalStrMap'],
    ['relative_path', 'str'],
    ['signed_headers', 'optionalStrMap'],
  ],
  single_file_put: [
    ['url', 'str'],
    ['relative_path', 'str'],
    ['signed_headers', 'optionalStrMap'],
  ],
};

function dumpModel(
  check: Checker,
  path: string,
  value: unknown,
  discriminator: string,
  models: Readonly<Record<string, readonly FieldSpec[]>>,
): JsonInput | undefined {
  const object = check.object(path, value);
  if (object === undefined) return undefined;
  const type = object[discriminator];
  if (typeof type !== 'string' || !Object.hasOwn(models, type)) {
    return check.fail(`${path}.${discriminator}`, `one of ${Object.keys(models).join('|')}`, type);
  }
  const out: Record<string, JsonInput> = { [discriminator]: type };
  for (const [name, kind] of models[type]!) {
    const field = `${path}.${name}`;
    const raw = object[name];
    switch (kind) {
      case 'str':
        out[name] = check.str(field, raw);
        break;
      case 'optionalStr':
        out[name] = check.optionalStr(field, raw);
        break;
      case 'optionalStrMap':
        out[name] = check.optionalStrMap(field, raw);
        break;
      case 'patterns':
        out[name] = raw === undefined || raw === null ? null : typeof raw === 'string' ? raw : check.strList(field, raw);
        break;
    }
  }
  return out;
}

function flatten(
  check: Checker,
  path: string,
  value: unknown,
  discriminator: string,
  multiType: string,
  listKey: string,
  models: Readonly<Record<string, readonly FieldSpec[]>>,
  itemModels: Readonly<Record<string, readonly FieldSpec[]>>,
): JsonInput[] {
  if (value === undefined || value === null) return [];
  const object = check.object(path, value);
  if (object === undefined) return [];
  if (object[discriminator] !== multiType) {
    const single = dumpModel(check, path, object, discriminator, models);
    return single === undefined ? [] : [single];
  }
  const items = object[listKey];
  if (!Array.isArray(items)) return check.fail(`${path}.${listKey}`, 'a list', items) ?? [];
  return items.flatMap((item, index) => {
    const dumped = dumpModel(check, `${path}.${listKey}[${index}]`, item, discriminator, itemModels);
    return dumped === undefined ? [] : [dumped];
  });
}

const SINGLE_FILE_UPLOADS = {
  single_file_post: UPLOAD_FIELDS['single_file_post']!,
  single_file_put: UPLOAD_FIELDS['single_file_put']!,
};

/**
 * `V2JobRequest.get_signed_fields()`: the validator's view, built from the job request the facilitator forwarded
 * (a plain object with V2JobRequest's field names). A `multi_volume` contributes its `volumes`, a `multi_upload` its
 * `uploads` (its `system_output` is not signed); each entry is re-dumped with all its model fields in declared
 * order, as pydantic's `model_dump()` does.
 *
 * @example
 * ```ts
 * const json = signedFieldsJson(signedFieldsFromV2JobRequest(request));
 * ```
 */
export function signedFieldsFromV2JobRequest(request: unknown): SignedFields {
  const check = new Checker();
  const body = check.object('request', request) ?? {};
  const artifactsDir = body['artifacts_dir'];
  return assemble(check, {
    executor_class: check.str('executor_class', body['executor_class']),
    docker_image: check.str('docker_image', body['docker_image']),
    args: check.strList('args', body['args']),
    env: check.strMap('env', body['env']),
    use_gpu: body['use_gpu'] === undefined ? true : check.bool('use_gpu', body['use_gpu']),
    artifacts_dir: artifactsDir === undefined || artifactsDir === null ? '' : check.str('artifacts_dir', artifactsDir),
    on_trusted_miner: body['on_trusted_miner'] === undefined ? false : check.bool('on_trusted_miner', body['on_trusted_miner']),
    download_time_limit: check.int('download_time_limit', body['download_time_limit']),
    execution_time_limit: check.int('execution_time_limit', body['execution_time_limit']),
    upload_time_limit: check.int('upload_time_limit', body['upload_time_limit']),
    streaming_start_time_limit: check.int('streaming_start_time_limit', body['streaming_start_time_limit']),
    streaming_details:
      body['streaming_details'] === undefined || body['streaming_details'] === null
        ? null
        : streamingDetails(check, 'streaming_details', body['streaming_details']),
    volumes: flatten(check, 'volume', body['volume'], 'volume_type', 'multi_volume', 'volumes', VOLUME_FIELDS, VOLUME_FIELDS),
    uploads: flatten(
      check,
      'output_upload',
      body['output_upload'],
      'output_upload_type',
      'multi_upload',
      'uploads',
      UPLOAD_FIELDS,
      SINGLE_FILE_UPLOADS,
    ),
  });
}

/**
 * `SignedFields.model_dump_json()`: the string both sides hash. Keys of `env` and of free-form volume objects keep
 * their insertion order (JavaScript moves integer-like keys such as "1" first; such keys would break the match).
 */
export function signedFieldsJson(fields: SignedFields): string {
  return pydanticJsonDumps(fields, { mode: 'signing' });
}

/** Converts a caller's nanosecond timestamp (bigint, decimal string, or a number below 2^53) to a bigint. */
export function toTimestampNs(value: bigint | string | number): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'string' && /^\d+$/.test(value)) return BigInt(value);
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
  throw new SignatureFormatError(
    `timestamp_ns must be a bigint or a decimal string (a JSON number above 2^53 loses digits: parse with parseJson from src/protocol/json): ${String(value)}`,
  );
}

const MAX_U64 = (1n << 64n) - 1n;

/**
 * Upstream's `hash_message_signature`: blake2b-512 of the 8-byte big-endian timestamp followed by the payload: raw
 * bytes as they are, anything else (including a string) as the UTF-8 of `json.dumps(payload, sort_keys=True)`.
 */
export function hashMessageSignature(payload: Uint8Array | JsonInput, timestampNs: bigint): Uint8Array {
  if (timestampNs < 0n || timestampNs > MAX_U64) throw new SignatureFormatError('timestamp_ns must fit in 8 unsigned bytes');
  const stamp = new Uint8Array(8);
  new DataView(stamp.buffer).setBigUint64(0, timestampNs, false);
  const body =
    payload instanceof Uint8Array ? payload : new TextEncoder().encode(pythonJsonDumps(payload, { sortKeys: true }));
  return blake2AsU8a(u8aConcat(stamp, body), 512);
}

export interface SignOptions {
  readonly clock: Clock;
  /** Overrides the clock (tests, or re-creating a known signature). */
  readonly timestampNs?: bigint | string;
  /** @default 'SignedFields' */
  readonly scope?: SignatureScope;
}

/**
 * Upstream's `Signer.sign(payload)`: a `Signature` over `hashMessageSignature(payload, now)`.
 *
 * @example
 * ```ts
 * const signature = signPayload(hotkey, { b: 2 }, { clock: systemClock });
 * ```
 */
export function signPayload(hotkey: Hotkey, payload: Uint8Array | JsonInput, options: SignOptions): Signature {
  const timestampNs =
    options.timestampNs === undefined ? BigInt(Math.floor(options.clock.nowMs())) * 1_000_000n : toTimestampNs(options.timestampNs);
  const digest = hashMessageSignature(payload, timestampNs);
  return {
    signature_type: BITTENSOR_SIGNATURE_TYPE,
    signatory: hotkey.ss58,
    timestamp_ns: timestampNs,
    signature: Buffer.from(hotkey.sign(digest)).toString('base64'),
    signature_scope: options.scope ?? 'SignedFields',
  };
}

export type SignatureRefusalCode = 'signature.bad_signatory' | 'signature.malformed' | 'signature.invalid' | 'signature.too_old';

/**
 * Upstream's `verify_signature(payload, signature, newer_than=...)`. Like upstream it does not look at
 * `signature_type` (only bittensor signatures exist). Never throws.
 *
 * @example
 * ```ts
 * const verdict = verifySignature(request.signature, signedFieldsJson(signedFieldsFromV2JobRequest(request)));
 * ```
 */
export function verifySignature(
  signature: Signature,
  payload: Uint8Array | JsonInput,
  options: { readonly newerThanNs?: bigint } = {},
): Result<void, Refusal<SignatureRefusalCode>> {
  const publicKey = publicKeyFromSs58(signature.signatory);
  if (publicKey === undefined) {
    return err({ code: 'signature.bad_signatory', message: 'Invalid signatory for BittensorWalletVerifier' });
  }
  const bytes = decodeBase64(signature.signature);
  if (bytes === undefined || bytes.length !== 64) {
    return err({ code: 'signature.malformed', message: 'Signature is malformed' });
  }
  let digest: Uint8Array;
  try {
    digest = hashMessageSignature(payload, signature.timestamp_ns);
  } catch (error) {
    return err({ code: 'signature.malformed', message: (error as Error).message });
  }
  if (!verifyWithPublicKey(publicKey, digest, bytes)) {
    return err({ code: 'signature.invalid', message: 'Signature is invalid' });
  }
  if (options.newerThanNs !== undefined && signature.timestamp_ns < options.newerThanNs) {
    return err({ code: 'signature.too_old', message: 'Signature is too old' });
  }
  return ok(undefined);
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (typeof text !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/**
 * The SDK's signature for `POST /api/v1/job-docker/` (`_get_signature_headers`): SignedFields scope over `body`.
 *
 * @example
 * ```ts
 * const headers = signatureToHeaders(signJobBody(hotkey, body, { clock: systemClock }));
 * ```
 */
export function signJobBody(hotkey: Hotkey, body: unknown, options: Omit<SignOptions, 'scope'>): Signature {
  const json = signedFieldsJson(signedFieldsFromFacilitatorSdkJson(body));
  return signPayload(hotkey, json, { ...options, scope: 'SignedFields' });
}

/**
 * The SDK's FullRequest-scope signature (`_get_cheated_job_headers`): it signs the *string*
 * `json.dumps(body, sort_keys=True)`, which the hash then encodes a second time.
 */
export function signFullRequestBody(hotkey: Hotkey, body: JsonInput, options: Omit<SignOptions, 'scope'>): Signature {
  return signPayload(hotkey, pythonJsonDumps(body, { sortKeys: true }), { ...options, scope: 'FullRequest' });
}

/**
 * The facilitator's middleware check (`signature_from_request`): the payload is chosen by the signature's scope,
 * SignedFields built from the body, or the body's sorted JSON text. A body SignedFields cannot be built from
 * is refused as `signature.malformed`. Never throws.
 */
export function verifyRequestBodySignature(
  signature: Signature,
  body: unknown,
): Result<void, Refusal<SignatureRefusalCode>> {
  let payload: string;
  try {
    payload =
      signature.signature_scope === 'FullRequest'
        ? pythonJsonDumps(body, { sortKeys: true })
        : signedFieldsJson(signedFieldsFromFacilitatorSdkJson(body));
  } catch (error) {
    return err({ code: 'signature.malformed', message: (error as Error).message });
  }
  return verifySignature(signature, payload);
}

/**
 * The validator's re-check of a forwarded `V2JobRequest` (`verify_request_or_fail`, minus the whitelist lookup that
 * the caller does with `signature.signatory`). A missing signature is refused as `signature.malformed`.
 */
export function verifyV2JobRequestSignature(
  request: Readonly<Record<string, unknown>> & { readonly signature?: Signature | null },
): Result<void, Refusal<SignatureRefusalCode>> {
  if (request.signature === undefined || request.signature === null) {
    return err({ code: 'signature.malformed', message: 'Signature is empty' });
  }
  let payload: string;
  try {
    payload = signedFieldsJson(signedFieldsFromV2JobRequest(request));
  } catch (error) {
    return err({ code: 'signature.malformed', message: (error as Error).message });
  }
  return verifySignature(request.signature, payload);
}

/** `signature_to_headers`: the `X-CH-*` headers carrying a signature on a REST request. */
export function signatureToHeaders(signature: Signature, scope: SignatureScope = signature.signature_scope): Record<string, string> {
  const p = SIGNATURE_HEADER_PREFIX;
  return {
    [`${p}Signature-Type`]: signature.signature_type,
    [`${p}Signatory`]: signature.signatory,
    [`${p}Timestamp-NS`]: signature.timestamp_ns.toString(),
    [`${p}Signature`]: signature.signature,
    [`${p}Signature-Scope`]: scope,
  };
}

/**
 * `signature_from_headers`: reads the `X-CH-*` headers (names case-insensitive, as Node lower-cases them). Throws
 * `SignatureFormatError` when one is missing or malformed (upstream's `SignatureNotFound`); the scope defaults to
 * SignedFields.
 */
export function signatureFromHeaders(headers: Readonly<Record<string, string | readonly string[] | undefined>>): Signature {
  const lower = new Map<string, string>();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    lower.set(name.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
  }
  const get = (name: string) => lower.get(`${SIGNATURE_HEADER_PREFIX}${name}`.toLowerCase());
  const type = get('Signature-Type');
  const signatory = get('Signatory');
  const timestamp = get('Timestamp-NS');
  const signature = get('Signature');
  const scope = get('Signature-Scope') ?? 'SignedFields';
  if (type === undefined || signatory === undefined || timestamp === undefined || signature === undefined) {
    throw new SignatureFormatError('Signature not found in headers');
  }
  if (scope !== 'SignedFields' && scope !== 'FullRequest') throw new SignatureFormatError(`unknown signature scope ${scope}`);
  return {
    signature_type: type,
    signatory,
    timestamp_ns: toTimestampNs(timestamp.trim()),
    signature,
    signature_scope: scope,
  };
}

/** A `Signature` as an ordered value for the encoders here (`timestamp_ns` stays an exact bigint). */
export function signatureToJsonValue(signature: Signature): JsonInput {
  return {
    signature_type: signature.signature_type,
    signatory: signature.signatory,
    timestamp_ns: signature.timestamp_ns,
    signature: signature.signature,
    signature_scope: signature.signature_scope,
  };
}

/** `Signature.model_dump_json()`, with `timestamp_ns` as an exact JSON integer. */
export function signatureJson(signature: Signature): string {
  return pydanticJsonDumps(signatureToJsonValue(signature), { mode: 'signing' });
}

/**
 * Reads a `Signature` from parsed JSON (pydantic defaults for missing fields, unknown fields refused as upstream's
 * `extra="forbid"`). `timestamp_ns` may be a bigint, a decimal string or a safe number; a number past 2^53 is
 * refused because its digits are already lost (parse with `parseJson` from src/protocol/json).
 */
export function signatureFromJson(value: unknown): Signature {
  if (!isPlainObject(value)) throw new SignatureFormatError('a signature must be an object');
  const allowed = ['signature_type', 'signatory', 'timestamp_ns', 'signature', 'signature_scope'];
  const extra = Object.keys(value).filter((key) => !allowed.includes(key));
  if (extra.length > 0) throw new SignatureFormatError(`unexpected signature fields: ${extra.join(', ')}`);
  const { signature_type = '', signatory = '', timestamp_ns = 0, signature, signature_scope = 'SignedFields' } = value;
  if (typeof signature_type !== 'string' || typeof signatory !== 'string') {
    throw new SignatureFormatError('signature_type and signatory must be strings');
  }
  if (typeof signature !== 'string') throw new SignatureFormatError('signature must be base64 text');
  if (signature_scope !== 'SignedFields' && signature_scope !== 'FullRequest') {
    throw new SignatureFormatError(`unknown signature scope ${String(signature_scope)}`);
  }
  if (typeof timestamp_ns !== 'bigint' && typeof timestamp_ns !== 'string' && typeof timestamp_ns !== 'number') {
    throw new SignatureFormatError('timestamp_ns must be an integer');
  }
  return { signature_type, signatory, timestamp_ns: toTimestampNs(timestamp_ns), signature, signature_scope };
}
