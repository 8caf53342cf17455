import { jobJsonOf, jobRequestOf } from '../../../src/actors/facilitator/jobJson';
import type { StoredJob } from '../../../src/actors/facilitator/jobStore';
import { selectValidator } from '../../../src/actors/facilitator/selection';
import { initCrypto, signedFieldsFromFacilitatorSdkJson, signedFieldsFromV2JobRequest, signedFieldsJson } from '../../../src/crypto';
import { V2JobRequest } from '../../../src/protocol';
import { JobJson, validateCreateJobBody, displayStatus, statusFromDisplay, JOB_STATUS_DISPLAY } from '../../../src/sdk/facilitatorApi';

beforeAll(async () => {
  await initCrypto();
});

const valid = { executor_class: 'always_on.test', docker_image: 'alpine', args: ['echo'], execution_time_limit: 10 };

describe('create-job body validation', () => {
  it.each([
    ['a missing image', { executor_class: 'always_on.test' }, 'docker_image', 'field required'],
    ['an unknown executor class', { ...valid, executor_class: 'gpu-9000' }, 'executor_class', 'expected one of'],
    ['a non-string arg', { ...valid, args: ['ok', 3] }, 'args[1]', 'expected a string'],
    ['a fractional limit', { ...valid, download_time_limit: 1.5 }, 'download_time_limit', 'expected an integer'],
    ['a negative limit', { ...valid, upload_time_limit: -1 }, 'upload_time_limit', 'greater than or equal to 0'],
    ['a blank image', { ...valid, docker_image: '  ' }, 'docker_image', 'may not be blank'],
    ['an unknown volume type', { ...valid, volumes: [{ volume_type: 'nfs' }] }, 'volumes[0].volume_type', ''],
    ['a volume without contents', { ...valid, volumes: [{ volume_type: 'inline' }] }, 'volumes[0].contents', 'field required'],
    ['a multi volume in the list', { ...valid, volumes: [{ volume_type: 'multi_volume', volumes: [] }] }, 'volumes[0].volume_type', ''],
    ['an upload without url', { ...valid, uploads: [{ output_upload_type: 'single_file_put', relative_path: 'x' }] }, 'uploads[0].url', 'field required'],
    ['a bad target hotkey', { ...valid, target_validator_hotkey: 'nope' }, 'target_validator_hotkey', 'SS58'],
    ['a body that is not an object', [1, 2], 'non_field_errors', 'expected an object'],
  ])('refuses %s with an error on its field', (_what, body, field, message) => {
    const r = validateCreateJobBody(body);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(Object.keys(r.error)).toEqual([field]);
    expect(r.error[field]!.join(' ')).toContain(message);
  });

  it('fills upstream defaults for what is left out', () => {
    const r = validateCreateJobBody({ executor_class: 'always_on.test', docker_image: 'alpine' });
    expect(r).toMatchObject({ ok: true, value: { args: [], env: {}, use_gpu: false, tag: '', volumes: [], uploads: [], on_trusted_miner: false, download_time_limit: 0, target_validator_hotkey: null } });
  });
});

describe('display status', () => {
  it('maps every wire status to a display status and back', () => {
    for (const status of Object.keys(JOB_STATUS_DISPLAY) as Array<keyof typeof JOB_STATUS_DISPLAY>) {
      expect(statusFromDisplay(displayStatus(status))).toBe(status);
    }
    expect(displayStatus('horde_failed')).toBe('Horde Failed');
  });
});

describe('validator selection', () => {
  it.each([
    ['the named target when fresh', 'B', ['A', 'B'], [], 'B'],
    ['nothing when the named target is stale', 'C', ['A', 'B'], [], undefined],
    ['a never-used validator first', null, ['A', 'B'], [['A', 5]], 'B'],
    ['the least recently used one', null, ['A', 'B', 'C'], [['A', 5], ['B', 3], ['C', 9]], 'B'],
    ['ties by hotkey', null, ['C', 'A'], [], 'A'],
    ['nothing when none is fresh', null, [], [], undefined],
  ] as const)('picks %s', (_what, target, fresh, last, expected) => {
    const choice = selectValidator({ target, fresh, lastJobMs: new Map(last as ReadonlyArray<[string, number]>) });
    expect(choice.ok ? choice.hotkey : undefined).toBe(expected);
  });
});

describe('job request and job JSON', () => {
  const user = { ss58: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY' };
  const r = validateCreateJobBody({
    ...valid,
    volumes: [{ volume_type: 'inline', contents: 'UEsF', relative_path: 'in' }, { volume_type: 'single_file', url: 'http://x/y', relative_path: 'y' }],
    uploads: [{ output_upload_type: 'single_file_put', url: 'http://x/out', relative_path: 'out.txt' }],
    artifacts_dir: '/artifacts',
  });
  if (!r.ok) throw new Error('bad fixture');
  const job: StoredJob = {
    uuid: 'u-1',
    owner: user.ss58,
    validator: '5V',
    body: r.value,
    signature: { signature_type: 'bittensor', signatory: user.ss58, timestamp_ns: 1n, signature: 'AAAA', signature_scope: 'SignedFields' },
    createdAtMs: 0,
    lastUpdateMs: 2_000,
    history: [
      { status: 'sent', metadata: null, createdAtMs: 0 },
      { status: 'completed', metadata: { miner_response: { docker_process_stdout: 'hi', docker_process_stderr: 'e', artifacts: { '/artifacts/x': 'eA==' }, upload_results: { 'out.txt': '{}' } }, job_rejection_details: null, job_failure_details: null, horde_failure_details: null, streaming_details: null }, createdAtMs: 2_000 },
    ],
  };

  it('wraps volumes and uploads in multi_* and keeps the SignedFields the SDK signed', () => {
    const request = jobRequestOf(job);
    expect(request.volume).toMatchObject({ volume_type: 'multi_volume' });
    expect(request.output_upload).toMatchObject({ output_upload_type: 'multi_upload', system_output: null });
    const decoded = V2JobRequest.validate(JSON.parse(V2JobRequest.toJson(request)));
    expect(decoded.ok).toBe(true);
    const sdkSide = signedFieldsJson(signedFieldsFromFacilitatorSdkJson({ ...valid, volumes: r.value.volumes, uploads: r.value.uploads, artifacts_dir: '/artifacts' }));
    expect(signedFieldsJson(signedFieldsFromV2JobRequest(request))).toBe(sdkSide);
  });

  it('shows the display status, the miner output and the history in the job JSON', () => {
    const json = jobJsonOf(job);
    expect(JobJson.validate(JSON.parse(JobJson.toJson(json))).ok).toBe(true);
    expect(json).toMatchObject({ status: 'Completed', stdout: 'hi', stderr: 'e', artifacts: { '/artifacts/x': 'eA==' }, last_update: '1970-01-01T00:00:02.000Z' });
    expect(json.status_history.map((h) => h.status)).toEqual(['sent', 'completed']);
  });
});
