import * as jsonModule from '../../../src/protocol/json';
import {
  DEFAULT_MAX_FRAME_BYTES,
  createMinerToValidatorCodec,
  executorToMinerCodec,
  facilitatorToValidatorCodec,
  minerToExecutorCodec,
  minerToValidatorCodec,
  validatorToFacilitatorCodec,
  validatorToMinerCodec,
  type DecodeError,
  type LinkCodec,
} from '../../../src/protocol';

function decodeError(result: { ok: boolean; error?: DecodeError }): DecodeError {
  if (result.ok || result.error === undefined) throw new Error('expected a decode error');
  return result.error;
}

const JOB_REQUEST = (volume: string): string =>
  `{"message_type":"V0JobRequest","job_uuid":"u","executor_class":"always_on.test","docker_image":"i","docker_run_options_preset":"none","docker_run_cmd":[],"volume":${volume}}`;

afterEach(() => {
  jest.restoreAllMocks();
});

describe('decode errors', () => {
  it.each([
    ['not JSON', 'not json'],
    ['truncated JSON', '{"message_type":"GenericError"'],
    ['trailing data', '{"message_type":"GenericError"} {}'],
    ['a JSON array', '[1,2]'],
    ['a JSON string', '"GenericError"'],
    ['NaN', '{"message_type":"GenericError","details":NaN}'],
    ['a leading zero', '{"message_type":"GenericError","x":01}'],
    ['a lone surrogate escape', '{"message_type":"GenericError","details":"\\ud800"}'],
    ['a raw lone surrogate', '{"message_type":"GenericError","details":"\ud800"}'],
    ['a byte order mark', '\ufeff{"message_type":"GenericError"}'],
    ['a raw control character in a string', '{"message_type":"GenericError","details":"a\u0001b"}'],
    ['an empty frame', ''],
  ])('calls %s malformed JSON', (_what, text) => {
    expect(decodeError(minerToValidatorCodec.decode(text)).code).toBe('frame.malformed_json');
  });

  it('calls nesting deeper than the limit malformed JSON instead of overflowing the stack', () => {
    const deep = `{"message_type":"GenericError","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    expect(decodeError(minerToValidatorCodec.decode(deep)).code).toBe('frame.malformed_json');
  });

  it('reports a message_type the link does not carry, naming it', () => {
    const e = decodeError(minerToExecutorCodec.decode('{"message_type":"V0AcceptJobRequest","job_uuid":"u"}'));
    expect(e).toMatchObject({ code: 'frame.unknown_message_type', messageType: 'V0AcceptJobRequest' });
  });

  it.each([
    ['missing', '{"job_uuid":"u"}'],
    ['not a string', '{"message_type":5}'],
    ['null', '{"message_type":null}'],
  ])('reports a message_type that is %s as unknown', (_what, text) => {
    const e = decodeError(validatorToMinerCodec.decode(text));
    expect(e.code).toBe('frame.unknown_message_type');
    expect(e.messageType).toBeUndefined();
  });

  it('reports an invalid field with its JSON path', () => {
    const e = decodeError(
      validatorToMinerCodec.decode(JOB_REQUEST('{"volume_type":"multi_volume","volumes":[{"volume_type":"inline","contents":5}]}')),
    );
    expect(e).toMatchObject({ code: 'frame.invalid_field', path: 'volume.volumes[0].contents', messageType: 'V0JobRequest' });
  });

  it('reports a missing required field', () => {
    const e = decodeError(minerToValidatorCodec.decode('{"message_type":"V0AcceptJobRequest"}'));
    expect(e).toMatchObject({ code: 'frame.invalid_field', path: 'job_uuid' });
    expect(e.message).toContain('field required');
  });

  it('points at the discriminator of an unknown volume type', () => {
    const e = decodeError(validatorToMinerCodec.decode(JOB_REQUEST('{"volume_type":"nfs"}')));
    expect(e).toMatchObject({ code: 'frame.invalid_field', path: 'volume.volume_type' });
  });

  it('refuses a multi volume inside a multi volume', () => {
    const e = decodeError(validatorToMinerCodec.decode(JOB_REQUEST('{"volume_type":"multi_volume","volumes":[{"volume_type":"multi_volume","volumes":[]}]}')));
    expect(e.path).toBe('volume.volumes[0].volume_type');
  });

  it('quotes record keys that are not identifiers in paths', () => {
    const e = decodeError(minerToValidatorCodec.decode('{"message_type":"V0ExecutorManifestRequest","manifest":{"always_on.test":1.5}}'));
    expect(e.path).toBe('manifest["always_on.test"]');
  });

  it('decodes an executor class it does not know as unknown, so a newer miner cannot break an older validator', () => {
    const r = minerToValidatorCodec.decode(
      '{"message_type":"V0ExecutorManifestRequest","manifest":{"always_on.gpu-80gb":1,"always_on.test":2}}',
    );
    expect(r).toEqual({ ok: true, value: { message_type: 'V0ExecutorManifestRequest', manifest: { unknown: 1, 'always_on.test': 2 } } });
  });

  it('decodes an unknown executor class in a job request as unknown', () => {
    const r = validatorToMinerCodec.decode(
      '{"message_type":"V0JobRequest","job_uuid":"u","executor_class":"always_on.tpu","docker_image":"i","docker_run_options_preset":"none","docker_run_cmd":[],"env":{}}',
    );
    expect(r.ok && r.value.message_type === 'V0JobRequest' && r.value.executor_class).toBe('unknown');
  });

  it.each([
    ['a fractional number', '1.5'],
    ['a numeric string', '"6006"'],
    ['a boolean', 'true'],
    ['an integer past 2^53', '9007199254740993'],
  ])('refuses %s in an int field', (_what, port) => {
    const e = decodeError(
      executorToMinerCodec.decode(`{"message_type":"V0StreamingJobReadyRequest","job_uuid":"u","public_key":"k","port":${port}}`),
    );
    expect(e.path).toBe('port');
  });

  it('accepts a float without fraction in an int field, as pydantic does, and writes it back as an int', () => {
    const r = executorToMinerCodec.decode('{"message_type":"V0StreamingJobReadyRequest","job_uuid":"u","public_key":"k","port":6006.0}');
    expect(r.ok && r.value).toMatchObject({ port: 6006 });
    if (r.ok) expect(executorToMinerCodec.encode(r.value)).toContain('"port":6006,');
  });

  it('refuses a datetime that is not ISO 8601 or not on the calendar', () => {
    const payload = (ts: string): string =>
      `{"message_type":"V0JobAcceptedReceiptRequest","payload":{"job_uuid":"u","miner_hotkey":"m","validator_hotkey":"v","timestamp":${ts},"receipt_type":"JobAcceptedReceipt","time_accepted":"2025-09-01T12:00:00Z","ttl":5},"signature":"0x"}`;
    expect(decodeError(validatorToMinerCodec.decode(payload('"2025-02-30T12:00:00Z"'))).path).toBe('payload.timestamp');
    expect(decodeError(validatorToMinerCodec.decode(payload('1756728000'))).path).toBe('payload.timestamp');
    expect(validatorToMinerCodec.decode(payload('"2024-02-29T12:00:00.123456+02:00"')).ok).toBe(true);
  });
});

describe('enums', () => {
  it('decodes an unknown reason, stage or participant as unknown, never as an error', () => {
    const r = minerToValidatorCodec.decode(
      '{"message_type":"V0HordeFailedRequest","job_uuid":"u","reported_by":"orchestrator","message":"m","reason":"cosmic_rays"}',
    );
    expect(r.ok && r.value).toMatchObject({ reported_by: 'unknown', reason: 'unknown' });
  });

  it('decodes an unknown job status as unknown', () => {
    const r = validatorToFacilitatorCodec.decode('{"message_type":"V0JobStatusUpdate","uuid":"u","status":"paused"}');
    expect(r.ok && r.value).toMatchObject({ status: 'unknown' });
  });

  it('maps even a non-string enum value to unknown, as upstream _missing_ does', () => {
    const r = minerToValidatorCodec.decode('{"message_type":"V0DeclineJobRequest","job_uuid":"u","reason":7}');
    expect(r.ok && r.value).toMatchObject({ reason: 'unknown' });
  });
});

describe('unknown fields', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  it.each<[string, LinkCodec<any, any>, string]>([
    ['validator->miner', validatorToMinerCodec, '{"message_type":"V0MainHotkeyMessage","main_hotkey":null,"new_field":1}'],
    ['miner->validator', minerToValidatorCodec, '{"message_type":"V0AcceptJobRequest","job_uuid":"u","new_field":{"a":1}}'],
    ['miner->executor', minerToExecutorCodec, '{"message_type":"GenericError","details":"x","new_field":[1]}'],
    ['executor->miner', executorToMinerCodec, '{"message_type":"V0VolumesReadyRequest","job_uuid":"u","new_field":true}'],
  ])('are ignored on the %s link', (_link, codec, text) => {
    const r = codec.decode(text);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value).not.toHaveProperty('new_field');
      expect(codec.encode(r.value)).not.toContain('new_field');
    }
  });

  it.each([
    ['V0JobStatusUpdate', '{"message_type":"V0JobStatusUpdate","uuid":"u","status":"sent","bogus":1}', 'bogus'],
    ['V0Heartbeat', '{"message_type":"V0Heartbeat","bogus":1}', 'bogus'],
    ['V0AuthenticationRequest', '{"message_type":"V0AuthenticationRequest","public_key":"ab","signature":"0x","bogus":1}', 'bogus'],
    ['V0MachineSpecsUpdate', '{"message_type":"V0MachineSpecsUpdate","miner_hotkey":"m","validator_hotkey":"v","specs":{},"batch_id":"b","bogus":1}', 'bogus'],
    ['StreamingServerDetails', '{"message_type":"V0JobStatusUpdate","uuid":"u","status":"streaming_ready","metadata":{"streaming_details":{"bogus":1}}}', 'metadata.streaming_details.bogus'],
  ])('are refused in %s, which forbids them upstream', (_model, text, path) => {
    const e = decodeError(validatorToFacilitatorCodec.decode(text));
    expect(e).toMatchObject({ code: 'frame.invalid_field', path });
  });

  it.each([
    ['Response', '{"status":"success","bogus":1}'],
    ['V2JobRequest', '{"message_type":"V2JobRequest","uuid":"u","executor_class":"always_on.test","docker_image":"i","args":[],"env":{},"download_time_limit":1,"execution_time_limit":1,"upload_time_limit":1,"streaming_start_time_limit":1,"bogus":1}'],
    ['V0JobCheated', '{"message_type":"V0JobCheated","job_uuid":"a","trusted_job_uuid":"b","details":null,"bogus":1}'],
  ])('are refused in the facilitator message %s', (_model, text) => {
    expect(decodeError(facilitatorToValidatorCodec.decode(text))).toMatchObject({ code: 'frame.invalid_field', path: 'bogus' });
  });

  it('are kept in the metadata models that allow them, and written back', () => {
    const text = '{"message_type":"V0JobStatusUpdate","uuid":"u","status":"completed","metadata":{"miner_response":{"docker_process_stderr":"","docker_process_stdout":"","artifacts":null,"upload_results":null,"exit":0},"job_rejection_details":null,"job_failure_details":null,"horde_failure_details":null,"streaming_details":null,"note":"n"}}';
    const r = validatorToFacilitatorCodec.decode(text);
    expect(r.ok).toBe(true);
    if (r.ok) expect(validatorToFacilitatorCodec.encode(r.value)).toBe(text);
  });
});

describe('__proto__ and friends', () => {
  afterEach(() => {
    // a polluted prototype would leak into every later test: check it stayed clean
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('drops a __proto__ field on an ignore-model without touching any prototype', () => {
    const r = minerToValidatorCodec.decode('{"message_type":"V0AcceptJobRequest","job_uuid":"u","__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}');
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.value)).toBe(Object.prototype);
      expect(Object.keys(r.value)).toEqual(['message_type', 'job_uuid']);
    }
  });

  it('refuses a __proto__ field on a forbid-model', () => {
    const e = decodeError(validatorToFacilitatorCodec.decode('{"message_type":"V0Heartbeat","__proto__":{"polluted":true}}'));
    expect(e).toMatchObject({ code: 'frame.invalid_field', path: '__proto__' });
  });

  it('keeps __proto__ as a plain own key inside records and free-form values, and writes it back', () => {
    const text = '{"message_type":"V0JobRequest","job_uuid":"u","executor_class":"always_on.test","docker_image":"i","raw_script":null,"docker_run_options_preset":"none","docker_run_cmd":[],"env":{"__proto__":"x","constructor":"y"},"volume":null,"output_upload":null,"artifacts_dir":null}';
    const r = validatorToMinerCodec.decode(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const env = (r.value as { env: Record<string, string> }).env;
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(env, '__proto__')?.value).toBe('x');
    expect(validatorToMinerCodec.encode(r.value)).toBe(text);
  });

  it('keeps __proto__ inside a failure context as data', () => {
    const text = '{"message_type":"V0HordeFailedRequest","job_uuid":"u","reported_by":"miner","message":"m","reason":"generic_error","context":{"__proto__":{"polluted":true},"a":[{"__proto__":1}]}}';
    const r = minerToValidatorCodec.decode(text);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const context = (r.value as { context: Record<string, unknown> }).context;
    expect(Object.getPrototypeOf(context)).toBe(Object.prototype);
    expect(Object.keys(context)).toEqual(['__proto__', 'a']);
    expect(minerToValidatorCodec.encode(r.value)).toBe(text);
  });

  it('never reads a field from a polluted Object.prototype', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.job_uuid = 'from-prototype';
    try {
      const e = decodeError(minerToValidatorCodec.decode('{"message_type":"V0AcceptJobRequest"}'));
      expect(e.path).toBe('job_uuid');
    } finally {
      delete proto.job_uuid;
    }
  });
});

describe('frame size limit', () => {
  it('is upstream max_size, 50 MiB, by default', () => {
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(50 * 1024 * 1024);
  });

  it('refuses an oversize frame before parsing it', () => {
    const parse = jest.spyOn(jsonModule, 'parseJsonTree');
    const codec = createMinerToValidatorCodec({ maxFrameBytes: 64 });
    const e = decodeError(codec.decode(`{"message_type":"GenericError","details":"${'x'.repeat(100)}"}`));
    expect(e.code).toBe('frame.too_large');
    expect(parse).not.toHaveBeenCalled();
    codec.decode('{"message_type":"GenericError"}');
    expect(parse).toHaveBeenCalledTimes(1);
  });

  it('calls an oversize frame too large even when it is not JSON at all', () => {
    const text = `not json ${'!'.repeat(DEFAULT_MAX_FRAME_BYTES)}`;
    expect(decodeError(minerToValidatorCodec.decode(text)).code).toBe('frame.too_large');
  });

  it('counts UTF-8 bytes, not UTF-16 characters', () => {
    const codec = createMinerToValidatorCodec({ maxFrameBytes: 100 });
    const details = (s: string): string => `{"message_type":"GenericError","details":"${s}"}`; // 43 bytes of frame
    expect(codec.decode(details('é'.repeat(28))).ok).toBe(true); // 43 + 56 = 99 bytes
    expect(decodeError(codec.decode(details('é'.repeat(29)))).code).toBe('frame.too_large'); // 72 chars, 101 bytes
    expect(decodeError(codec.decode(details('€'.repeat(20)))).code).toBe('frame.too_large'); // 63 chars, 103 bytes
  });
});
