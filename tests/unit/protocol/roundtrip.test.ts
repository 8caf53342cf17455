import {
  JsonFloat,
  executorToMinerCodec,
  facilitatorToValidatorCodec,
  minerToExecutorCodec,
  minerToValidatorCodec,
  validatorToFacilitatorCodec,
  validatorToMinerCodec,
  type LinkCodec,
} from '../../../src/protocol';
import { UPSTREAM_FRAMES, type LinkName } from './upstream-frames';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CODECS: Record<LinkName, LinkCodec<any, any>> = {
  validatorToMiner: validatorToMinerCodec,
  minerToValidator: minerToValidatorCodec,
  minerToExecutor: minerToExecutorCodec,
  executorToMiner: executorToMinerCodec,
  facilitatorToValidator: facilitatorToValidatorCodec,
  validatorToFacilitator: validatorToFacilitatorCodec,
};

function decodeOk(link: LinkName, text: string): Record<string, unknown> {
  const r = CODECS[link].decode(text);
  if (!r.ok) throw new Error(`${link}: ${r.error.code} ${r.error.message}`);
  return r.value as Record<string, unknown>;
}

function frame(name: string): { link: LinkName; text: string } {
  const f = UPSTREAM_FRAMES.find((x) => x.name === name);
  if (f === undefined) throw new Error(`no fixture ${name}`);
  return f;
}

describe('upstream frames', () => {
  it.each(UPSTREAM_FRAMES.map((f) => [f.name, f] as const))('%s decodes and re-encodes to the same bytes', (_name, f) => {
    const codec = CODECS[f.link];
    const decoded = decodeOk(f.link, f.text);
    expect(codec.encode(decoded)).toBe(f.text);
  });

  it.each(Object.keys(CODECS) as LinkName[])('cover every message type the %s link carries', (link) => {
    const covered = new Set(
      UPSTREAM_FRAMES.filter((f) => f.link === link).map((f) => {
        const v = decodeOk(link, f.text);
        return typeof v.message_type === 'string' ? v.message_type : 'Response';
      }),
    );
    const expected = [...CODECS[link].messageTypes, ...(link === 'facilitatorToValidator' ? ['Response'] : [])];
    expect([...covered].sort()).toEqual(expected.sort());
  });
});

describe('decoded values', () => {
  it('reads a nanosecond timestamp past 2^53 exactly, as a bigint', () => {
    const v = decodeOk('facilitatorToValidator', frame('V2JobRequest').text);
    expect((v.signature as { timestamp_ns: bigint }).timestamp_ns).toBe(1737000000123456789n);
  });

  it('keeps floats of free-form values apart from ints so that 1.0 stays 1.0', () => {
    const v = decodeOk('facilitatorToValidator', frame('V0JobCheated').text);
    expect(v.details).toEqual({ reason: 'wrong output – ✗', score: new JsonFloat(1), diff: new JsonFloat(1e-7), n: 3 });
  });

  it('fills absent optional fields with null and defaults as pydantic does', () => {
    const v = decodeOk('minerToValidator', '{"message_type":"V0JobFailedRequest","job_uuid":"u"}');
    expect(v).toEqual({
      message_type: 'V0JobFailedRequest',
      job_uuid: 'u',
      message: '',
      reason: 'unknown',
      stage: 'unknown',
      docker_process_exit_status: null,
      docker_process_stdout: null,
      docker_process_stderr: null,
      context: null,
    });
    expect(Object.keys(v)).toEqual([
      'message_type',
      'job_uuid',
      'message',
      'reason',
      'stage',
      'docker_process_exit_status',
      'docker_process_stdout',
      'docker_process_stderr',
      'context',
    ]);
  });

  it('reads the legacy error_detail/error_type aliases of V0JobFailedRequest and writes the new names', () => {
    const codec = executorToMinerCodec;
    const r = codec.decode('{"message_type":"V0JobFailedRequest","job_uuid":"u","error_detail":"boom","error_type":"timeout"}');
    expect(r.ok && r.value).toMatchObject({ message: 'boom', reason: 'timeout' });
    if (r.ok) expect(codec.encode(r.value)).toContain('"message":"boom","reason":"timeout"');
  });

  it('prefers message over error_detail when a peer sends both', () => {
    const r = executorToMinerCodec.decode('{"message_type":"V0JobFailedRequest","job_uuid":"u","error_detail":"E","message":"M"}');
    expect(r.ok && r.value).toMatchObject({ message: 'M' });
  });

  it('reads a tagless system_output as zip_and_http_post, like upstream plain union', () => {
    const r = minerToExecutorCodec.decode(
      '{"message_type":"V0JobRequest","job_uuid":"u","executor_class":"always_on.test","docker_image":"i","docker_run_options_preset":"none","docker_run_cmd":[],"output_upload":{"output_upload_type":"multi_upload","uploads":[],"system_output":{"url":"https://x"}}}',
    );
    expect(r.ok && r.value).toMatchObject({
      output_upload: { system_output: { output_upload_type: 'zip_and_http_post', url: 'https://x', form_fields: null } },
    });
  });

  it('reads a Response by its shape, since it has no message_type', () => {
    expect(decodeOk('facilitatorToValidator', '{"status":"success"}')).toEqual({ status: 'success', errors: [] });
  });

  it('keeps the extra fields of allow-models after the declared ones', () => {
    const f = frame('V0JobStatusUpdate.extra_metadata');
    const v = decodeOk('validatorToFacilitator', f.text) as { metadata: Record<string, unknown> };
    expect(v.metadata.comment).toBe('extra allowed');
    expect(v.metadata.weights).toEqual([new JsonFloat(0.5), new JsonFloat(1)]);
  });
});
