import {
  SchemaEncodeError,
  duplexCodec,
  facilitatorToValidatorCodec,
  minerToValidatorCodec,
  validatorToFacilitatorCodec,
  validatorToMinerCodec,
  type FacilitatorToValidatorMessageInput,
  type MinerToValidatorMessageInput,
} from '../../../src/protocol';

describe('encoding messages built by Horde', () => {
  it('writes upstream field order with omitted optional fields as null and defaults filled in', () => {
    const msg: MinerToValidatorMessageInput = { message_type: 'V0DeclineJobRequest', job_uuid: 'u', reason: 'busy' };
    expect(minerToValidatorCodec.encode(msg)).toBe(
      '{"message_type":"V0DeclineJobRequest","job_uuid":"u","message":"","reason":"busy","receipts":[],"context":null}',
    );
  });

  it('writes a request for the main hotkey as main_hotkey null', () => {
    expect(validatorToMinerCodec.encode({ message_type: 'V0MainHotkeyMessage' })).toBe(
      '{"message_type":"V0MainHotkeyMessage","main_hotkey":null}',
    );
  });

  it('writes a status update the facilitator accepts: no field it does not declare', () => {
    expect(
      validatorToFacilitatorCodec.encode({
        message_type: 'V0JobStatusUpdate',
        uuid: 'u',
        status: 'failed',
        metadata: { job_failure_details: { reason: 'timeout', stage: 'execution', message: 'too slow' } },
      }),
    ).toBe(
      '{"message_type":"V0JobStatusUpdate","uuid":"u","status":"failed","metadata":{"miner_response":null,"job_rejection_details":null,"job_failure_details":{"reason":"timeout","stage":"execution","message":"too slow","context":null,"docker_process_exit_status":null,"docker_process_stdout":null,"docker_process_stderr":null},"horde_failure_details":null,"streaming_details":null}}',
    );
  });

  it('writes V2JobRequest as upstream facilitator does, with json.dumps separators and ASCII escapes', () => {
    const msg: FacilitatorToValidatorMessageInput = {
      message_type: 'V2JobRequest',
      signature: { signature_type: 'bittensor', signatory: '5F', timestamp_ns: 1737000000123456789n, signature: 'YWJj' },
      uuid: 'u',
      executor_class: 'always_on.test',
      docker_image: 'img',
      args: ['échec'],
      env: {},
      download_time_limit: 1,
      execution_time_limit: 2,
      upload_time_limit: 3,
      streaming_start_time_limit: 4,
    };
    expect(facilitatorToValidatorCodec.encode(msg)).toBe(
      '{"signature": {"signature_type": "bittensor", "signatory": "5F", "timestamp_ns": 1737000000123456789, "signature": "YWJj", "signature_scope": "SignedFields"}, "type": "job.new", "message_type": "V2JobRequest", "uuid": "u", "job_namespace": null, "executor_class": "always_on.test", "docker_image": "img", "args": ["\\u00e9chec"], "env": {}, "use_gpu": true, "volume": null, "output_upload": null, "artifacts_dir": null, "on_trusted_miner": false, "download_time_limit": 1, "execution_time_limit": 2, "upload_time_limit": 3, "streaming_start_time_limit": 4, "streaming_details": null}',
    );
  });

  it('leaves a null signature out of V0JobCheated (exclude_none) but always writes details, which upstream requires', () => {
    const text = facilitatorToValidatorCodec.encode({ message_type: 'V0JobCheated', job_uuid: 'a', trusted_job_uuid: 'b' });
    expect(text).toBe('{"type": "job.cheated", "message_type": "V0JobCheated", "job_uuid": "a", "trusted_job_uuid": "b", "details": null}');
    const decoded = facilitatorToValidatorCodec.decode('{"type": "job.cheated", "message_type": "V0JobCheated", "job_uuid": "a", "trusted_job_uuid": "b"}');
    expect(decoded.ok && decoded.value).toMatchObject({ details: null, signature: null });
  });

  it('writes a Response, which has no message_type, in pydantic style', () => {
    expect(facilitatorToValidatorCodec.encode({ status: 'error', errors: [{ msg: 'Job not found', type: 'job.not_found' }] })).toBe(
      '{"status":"error","errors":[{"msg":"Job not found","type":"job.not_found","help":""}]}',
    );
  });

  it('throws a SchemaEncodeError for a message the link does not carry', () => {
    const bogus = { message_type: 'V0Heartbeat' } as unknown as MinerToValidatorMessageInput;
    expect(() => minerToValidatorCodec.encode(bogus)).toThrow(SchemaEncodeError);
  });

  it('throws a SchemaEncodeError naming the field that would make upstream refuse the frame', () => {
    const msg = { message_type: 'V0StreamingJobReadyRequest', job_uuid: 'u', public_key: 'k', port: 6006.5 } as const;
    expect(() => minerToValidatorCodec.encode(msg)).toThrow('port: expected a safe integer');
  });
});

describe('duplexCodec', () => {
  it('decodes with the incoming direction and encodes with the outgoing one', () => {
    const minerSide = duplexCodec(validatorToMinerCodec, minerToValidatorCodec);
    const r = minerSide.decode('{"message_type":"V0MainHotkeyMessage","main_hotkey":null}');
    expect(r.ok && r.value).toEqual({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    expect(minerSide.encode({ message_type: 'V0AcceptJobRequest', job_uuid: 'u' })).toBe('{"message_type":"V0AcceptJobRequest","job_uuid":"u"}');
    expect(minerSide.decode('{"message_type":"V0AcceptJobRequest","job_uuid":"u"}').ok).toBe(false);
  });
});
