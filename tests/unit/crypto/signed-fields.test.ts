import { u8aToHex } from '@polkadot/util';
import { manualClock } from '../../../src/util/clock';
import { parseJson, pythonJsonDumps } from '../../../src/protocol/json';
import {
  devHotkey,
  hashMessageSignature,
  initCrypto,
  signatureFromHeaders,
  signatureFromJson,
  SignatureFormatError,
  signatureJson,
  signatureToHeaders,
  signedFieldsFromFacilitatorSdkJson,
  signedFieldsFromV2JobRequest,
  SignedFieldsError,
  signedFieldsJson,
  signFullRequestBody,
  signJobBody,
  signPayload,
  toTimestampNs,
  verifyRequestBodySignature,
  verifySignature,
  verifyV2JobRequestSignature,
  verifyWithPublicKey,
  publicKeyFromSs58,
  type Hotkey,
  type Signature,
} from '../../../src/crypto';
import {
  b85decode,
  UPSTREAM_SIGNATURE_VECTOR,
  V2_JOB_REQUEST,
  V2_SIGNED_FIELDS_DIGEST_HEX,
  V2_SIGNED_FIELDS_JSON,
} from './vectors';

let sdkUser: Hotkey;
beforeAll(async () => {
  await initCrypto();
  sdkUser = devHotkey('sdk-user');
});

const clock = manualClock(1_737_000_000_000);

/** The REST body the SDK would send for V2_JOB_REQUEST (volumes/uploads already model_dump()ed, as the SDK does). */
function sdkBody(): Record<string, unknown> {
  const request = V2_JOB_REQUEST as unknown as Record<string, unknown>;
  const volume = request['volume'] as { volumes: Array<Record<string, unknown>> };
  const upload = request['output_upload'] as { uploads: Array<Record<string, unknown>> };
  return {
    target_validator_hotkey: '5X',
    executor_class: request['executor_class'],
    docker_image: request['docker_image'],
    job_namespace: 'SN123.0',
    args: request['args'],
    env: request['env'],
    use_gpu: true,
    artifacts_dir: null,
    on_trusted_miner: false,
    download_time_limit: 60,
    execution_time_limit: 300,
    streaming_start_time_limit: 30,
    upload_time_limit: 120,
    streaming_details: { public_key: (request['streaming_details'] as { public_key: string }).public_key },
    volumes: [
      volume.volumes[0],
      { volume_type: 'huggingface_volume', repo_id: 'hug', repo_type: null, revision: '333', relative_path: './models/here', allow_patterns: null, token: null },
      volume.volumes[2],
    ],
    uploads: [
      { ...upload.uploads[0], signed_headers: null },
      {
        output_upload_type: 'single_file_post',
        url: 'https://s3.example/post',
        form_fields: { b: '2', a: '1' },
        relative_path: 'log.txt',
        signed_headers: null,
      },
    ],
  };
}

describe('upstream test vector (compute_horde/tests/test_signature.py)', () => {
  const vector = UPSTREAM_SIGNATURE_VECTOR;

  it('hashes the payload to the digest upstream asserts', () => {
    expect(u8aToHex(hashMessageSignature(vector.payload, vector.timestampNs))).toBe(u8aToHex(b85decode(vector.hashB85)));
  });

  it('verifies upstream\'s signature by its signatory', () => {
    const signature: Signature = {
      signature_type: 'bittensor',
      signatory: vector.signatory,
      timestamp_ns: vector.timestampNs,
      signature: Buffer.from(b85decode(vector.signatureB85)).toString('base64'),
      signature_scope: 'SignedFields',
    };
    expect(verifySignature(signature, vector.payload)).toEqual({ ok: true, value: undefined });
    expect(verifySignature(signature, { ...vector.payload, b: 3 })).toMatchObject({ ok: false, error: { code: 'signature.invalid' } });
    expect(verifySignature({ ...signature, timestamp_ns: vector.timestampNs + 1n }, vector.payload).ok).toBe(false);
  });

  it('refuses it as too old when asked for a newer one', () => {
    const signature: Signature = {
      signature_type: 'bittensor',
      signatory: vector.signatory,
      timestamp_ns: vector.timestampNs,
      signature: Buffer.from(b85decode(vector.signatureB85)).toString('base64'),
      signature_scope: 'SignedFields',
    };
    expect(verifySignature(signature, vector.payload, { newerThanNs: vector.timestampNs + 1n })).toMatchObject({
      ok: false,
      error: { code: 'signature.too_old' },
    });
  });
});

describe('SignedFields', () => {
  it('builds the exact pydantic JSON from a literal V2JobRequest', () => {
    expect(signedFieldsJson(signedFieldsFromV2JobRequest(V2_JOB_REQUEST))).toBe(V2_SIGNED_FIELDS_JSON);
  });

  it('hashes it the way upstream does: the JSON string encoded a second time', () => {
    expect(u8aToHex(hashMessageSignature(V2_SIGNED_FIELDS_JSON, 1737000000000000000n)).slice(2)).toBe(V2_SIGNED_FIELDS_DIGEST_HEX);
    expect(pythonJsonDumps(V2_SIGNED_FIELDS_JSON).startsWith('"{\\"executor_class\\"')).toBe(true);
  });

  it('builds the same JSON from the SDK\'s REST body as from the forwarded V2JobRequest', () => {
    expect(signedFieldsJson(signedFieldsFromFacilitatorSdkJson(sdkBody()))).toBe(V2_SIGNED_FIELDS_JSON);
  });

  it('fills upstream\'s defaults on both sides', () => {
    // Python: SignedFields.from_facilitator_sdk_json({"executor_class": "always_on.test"}).model_dump_json()
    expect(signedFieldsJson(signedFieldsFromFacilitatorSdkJson({ executor_class: 'always_on.test' }))).toBe(
      '{"executor_class":"always_on.test","docker_image":"","args":[],"env":{},"use_gpu":false,"artifacts_dir":"","on_trusted_miner":false,"download_time_limit":0,"execution_time_limit":0,"upload_time_limit":0,"streaming_start_time_limit":0,"streaming_details":null,"volumes":[],"uploads":[]}',
    );
    const minimal = {
      executor_class: 'always_on.test',
      docker_image: 'img',
      args: [],
      env: {},
      download_time_limit: 1,
      execution_time_limit: 2,
      upload_time_limit: 3,
      streaming_start_time_limit: 4,
    };
    // Python: V2JobRequest(uuid=..., **minimal).get_signed_fields().model_dump_json()
    expect(signedFieldsJson(signedFieldsFromV2JobRequest(minimal))).toBe(
      '{"executor_class":"always_on.test","docker_image":"img","args":[],"env":{},"use_gpu":true,"artifacts_dir":"","on_trusted_miner":false,"download_time_limit":1,"execution_time_limit":2,"upload_time_limit":3,"streaming_start_time_limit":4,"streaming_details":null,"volumes":[],"uploads":[]}',
    );
  });

  it('signs a single (non-multi) volume and upload as one-element lists', () => {
    const request = {
      ...V2_JOB_REQUEST,
      volume: { volume_type: 'zip_url', contents: 'https://x/a.zip' },
      output_upload: { output_upload_type: 'zip_and_http_post', url: 'https://x/up', form_fields: null },
    };
    const fields = signedFieldsFromV2JobRequest(request);
    expect(fields.volumes).toEqual([{ volume_type: 'zip_url', contents: 'https://x/a.zip', relative_path: null }]);
    expect(fields.uploads).toEqual([{ output_upload_type: 'zip_and_http_post', url: 'https://x/up', form_fields: null }]);
  });

  it('lists every field pydantic would reject', () => {
    let error: unknown;
    try {
      signedFieldsFromV2JobRequest({
        ...V2_JOB_REQUEST,
        args: ['ok', 3],
        download_time_limit: 'soon',
        volume: { volume_type: 'multi_volume', volumes: [{ volume_type: 'multi_volume', volumes: [] }] },
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(SignedFieldsError);
    expect((error as SignedFieldsError).problems).toEqual([
      'args[1]: expected a string, got 3',
      'download_time_limit: expected an int, got "soon"',
      expect.stringContaining('volume.volumes[0].volume_type'),
    ]);
  });
});

describe('job request signatures, end to end', () => {
  it('verifies at the facilitator and again at the validator after forwarding', () => {
    const body = sdkBody();
    const signature = signJobBody(sdkUser, body, { clock });
    expect(signature).toMatchObject({ signature_type: 'bittensor', signatory: sdkUser.ss58, timestamp_ns: 1737000000000000000n });
    expect(verifyRequestBodySignature(signatureFromHeaders(signatureToHeaders(signature)), body)).toEqual({ ok: true, value: undefined });
    const forwarded = { ...V2_JOB_REQUEST, signature };
    expect(verifyV2JobRequestSignature(forwarded)).toEqual({ ok: true, value: undefined });
  });

  it('refuses the forwarded request when a signed field changed on the way', () => {
    const signature = signJobBody(sdkUser, sdkBody(), { clock });
    for (const change of [
      { docker_image: 'evil/image' },
      { args: ['--text', 'other'] },
      { execution_time_limit: 301 },
      { env: { ALPHA: 'é', ZED: '1' } },
    ]) {
      expect(verifyV2JobRequestSignature({ ...V2_JOB_REQUEST, ...change, signature })).toMatchObject({
        ok: false,
        error: { code: 'signature.invalid' },
      });
    }
  });

  it('ignores fields that are not signed (uuid, namespace, system_output)', () => {
    const signature = signJobBody(sdkUser, sdkBody(), { clock });
    const request = V2_JOB_REQUEST as unknown as { output_upload: Record<string, unknown> };
    const changed = {
      ...V2_JOB_REQUEST,
      uuid: 'another',
      job_namespace: null,
      output_upload: { ...request.output_upload, system_output: null },
      signature,
    };
    expect(verifyV2JobRequestSignature(changed).ok).toBe(true);
  });

  it('refuses a missing signature and a signature by an unknown address', () => {
    expect(verifyV2JobRequestSignature({ ...V2_JOB_REQUEST })).toMatchObject({ ok: false, error: { code: 'signature.malformed' } });
    const signature = { ...signJobBody(sdkUser, sdkBody(), { clock }), signatory: 'nonsense' };
    expect(verifyV2JobRequestSignature({ ...V2_JOB_REQUEST, signature })).toMatchObject({
      ok: false,
      error: { code: 'signature.bad_signatory' },
    });
  });

  it('signs FullRequest bodies as json.dumps(body, sort_keys=True), encoded again by the hash', () => {
    const body = { job_uuid: 'a', trusted_job_uuid: 'b', details: null };
    const signature = signFullRequestBody(sdkUser, body, { clock, timestampNs: '1729622861880448856' });
    expect(signature.signature_scope).toBe('FullRequest');
    // Python: hash_message_signature(json.dumps(body, sort_keys=True), Signature(timestamp_ns=1729622861880448856))
    const digest = hashMessageSignature(pythonJsonDumps(body, { sortKeys: true }), 1729622861880448856n);
    expect(u8aToHex(digest).slice(2)).toBe(
      '66256b8336d6495886a867a640298ee49d89b3b01cb726d95750580995244c70aec57dd710013402e93694a772a1bf69ff270eedec930f4414a89a18105229ad',
    );
    expect(verifyWithPublicKey(publicKeyFromSs58(sdkUser.ss58)!, digest, Buffer.from(signature.signature, 'base64'))).toBe(true);
    expect(verifyRequestBodySignature(signature, { trusted_job_uuid: 'b', details: null, job_uuid: 'a' }).ok).toBe(true);
    expect(verifyRequestBodySignature(signature, { ...body, details: {} }).ok).toBe(false);
  });

  it('signs raw bytes without JSON-encoding them', () => {
    const signature = signPayload(sdkUser, new TextEncoder().encode('test'), { clock });
    expect(verifySignature(signature, new TextEncoder().encode('test')).ok).toBe(true);
    expect(verifySignature(signature, 'test').ok).toBe(false);
  });
});

describe('Signature on the wire', () => {
  it('keeps a timestamp_ns past 2^53 exact through JSON and headers', () => {
    const signature = signPayload(sdkUser, { a: 1 }, { clock, timestampNs: 1729622861880448856n });
    const json = signatureJson(signature);
    expect(json).toContain('"timestamp_ns":1729622861880448856,');
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['signature_type', 'signatory', 'timestamp_ns', 'signature', 'signature_scope']);
    const back = signatureFromJson(parsedOrThrow(json));
    expect(back).toEqual(signature);
    expect(verifySignature(back, { a: 1 }).ok).toBe(true);
    expect(signatureToHeaders(signature)['X-CH-Timestamp-NS']).toBe('1729622861880448856');
    expect(signatureFromHeaders(signatureToHeaders(signature)).timestamp_ns).toBe(1729622861880448856n);
  });

  it('refuses a timestamp_ns that already lost its digits in JSON.parse', () => {
    const lossy = JSON.parse('{"signature": "", "timestamp_ns": 1729622861880448856}') as unknown;
    expect(() => signatureFromJson(lossy)).toThrow(SignatureFormatError);
    expect(() => toTimestampNs(Number('1729622861880448856'))).toThrow(/parseJson/);
    expect(toTimestampNs('1729622861880448856')).toBe(1729622861880448856n);
  });

  it('reads headers case-insensitively, defaulting the scope, and refuses missing ones', () => {
    const headers = Object.fromEntries(
      Object.entries(signatureToHeaders(signPayload(sdkUser, { a: 1 }, { clock }))).map(([k, v]) => [k.toLowerCase(), v]),
    );
    delete headers['x-ch-signature-scope'];
    expect(signatureFromHeaders(headers).signature_scope).toBe('SignedFields');
    delete headers['x-ch-signatory'];
    expect(() => signatureFromHeaders(headers)).toThrow(SignatureFormatError);
  });

  it('refuses unknown fields in a Signature object (extra="forbid")', () => {
    expect(() => signatureFromJson({ signature: '', extra: 1 })).toThrow(/unexpected signature fields: extra/);
  });

  it('calls a malformed base64 signature malformed', () => {
    const signature = { ...signPayload(sdkUser, { a: 1 }, { clock }), signature: '***' };
    expect(verifySignature(signature, { a: 1 })).toMatchObject({ ok: false, error: { code: 'signature.malformed' } });
  });
});

function parsedOrThrow(text: string): unknown {
  const r = parseJson(text);
  if (!r.ok) throw new Error(r.error);
  return r.value;
}
