/**
 * How the job driver classifies failures and builds its final message (src/machines/jobReport.ts): upstream's
 * three-way split, and frames that the real executor→miner codec accepts.
 */
import {
  ContainerStartError,
  ExecutionTimeoutError,
  ImagePullError,
  UploadFailedError,
  VolumeBadZipError,
  VolumeDownloadError,
  VolumeUnsafeZipError,
} from '../../src/actors/executor/errors';
import {
  EXIT_CODES,
  executionFromError,
  exitCodeFor,
  failureFromError,
  failureMessage,
  jobUuidFromToken,
  stageTimeoutFailure,
} from '../../src/machines/jobReport';
import { executorToMinerCodec } from '../../src/protocol';

const JOB = '7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f';

describe('failureFromError', () => {
  it.each([
    ['an unsafe zip entry is the job owner’s download failure', new VolumeUnsafeZipError('../x', 'escapes'), 'volume_download', 'job_failed', 'download_failed'],
    ['a bad zip is a download failure', new VolumeBadZipError('bad header'), 'volume_download', 'job_failed', 'download_failed'],
    ['an unreachable URL is a download failure', new VolumeDownloadError('http://127.0.0.1:9/x.zip', 'ECONNREFUSED', 4), 'volume_download', 'job_failed', 'download_failed'],
    ['an upload answered 500 is an upload failure', new UploadFailedError('http://127.0.0.1/up', 'HTTP 500', 3, 500), 'result_upload', 'job_failed', 'upload_failed'],
    ['a killed container is a timeout', new ExecutionTimeoutError(1000, { stdout: 'a', stderr: 'b', truncated: { stdout: false, stderr: false } }), 'execution', 'job_failed', 'timeout'],
    ['an image pull failure is the network’s', new ImagePullError('img', 'not found', []), 'executor_startup', 'horde_failed', 'generic_error'],
    ['an engine refusing the container is the network’s', new ContainerStartError('no such image'), 'execution', 'horde_failed', 'generic_error'],
    ['anything else is an unhandled exception', new TypeError('x is undefined'), 'execution', 'horde_failed', 'unhandled_exception'],
  ] as const)('%s', (_name, error, stage, kind, reason) => {
    const failure = failureFromError(error, stage);
    expect(failure).toMatchObject({ kind, reason, stage });
  });

  it('names the exception type of an unhandled error, as upstream’s wrap_unhandled', () => {
    expect(failureFromError(new TypeError('boom'), 'result_upload')).toEqual({
      kind: 'horde_failed',
      stage: 'result_upload',
      reason: 'unhandled_exception',
      message: 'Unhandled exception',
      context: { stage: 'result_upload', exception_type: 'TypeError', error_code: 'unknown', detail: 'boom' },
    });
  });

  it('prefixes download failures as upstream does', () => {
    expect(failureFromError(new VolumeBadZipError('bad header'), 'volume_download').message).toBe('Download failed: volume is not a valid zip: bad header');
  });
});

describe('stageTimeoutFailure', () => {
  it.each([
    ['executor_startup', 'horde_failed', 'generic_error', 'Timed out waiting for initial job details from miner'],
    ['volume_download', 'job_failed', 'timeout', 'Download time exceeded'],
    ['execution', 'job_failed', 'timeout', 'Execution time exceeded'],
    ['result_upload', 'job_failed', 'timeout', 'Upload time exceeded'],
  ] as const)('a timeout in %s is %s/%s', (stage, kind, reason, message) => {
    expect(stageTimeoutFailure(stage)).toMatchObject({ kind, reason, message, stage });
  });
});

describe('failureMessage', () => {
  it('builds a V0JobFailedRequest with the container’s exit status and output when it ran', () => {
    const message = failureMessage(
      JOB,
      { kind: 'job_failed', stage: 'execution', reason: 'nonzero_return_code', message: 'Job container exited with non-zero exit code: 3' },
      { exitCode: 3, stdout: 'out', stderr: 'err' },
    );
    const text = executorToMinerCodec.encode(message);
    expect(text).toBe(
      `{"message_type":"V0JobFailedRequest","job_uuid":"${JOB}","message":"Job container exited with non-zero exit code: 3","reason":"nonzero_return_code","stage":"execution","docker_process_exit_status":3,"docker_process_stdout":"out","docker_process_stderr":"err","context":null}`,
    );
  });

  it('builds a V0HordeFailedRequest reported by the executor', () => {
    const text = executorToMinerCodec.encode(failureMessage(JOB, stageTimeoutFailure('executor_startup')));
    expect(text).toBe(
      `{"message_type":"V0HordeFailedRequest","job_uuid":"${JOB}","reported_by":"executor","message":"Timed out waiting for initial job details from miner","reason":"generic_error","context":{"stage":"executor_startup"}}`,
    );
  });

  it('leaves the container fields null when the job never ran', () => {
    const decoded = executorToMinerCodec.decode(executorToMinerCodec.encode(failureMessage(JOB, stageTimeoutFailure('volume_download'))));
    expect(decoded.ok && decoded.value).toMatchObject({ docker_process_exit_status: null, docker_process_stdout: null, docker_process_stderr: null });
  });
});

describe('executionFromError', () => {
  it('reads what a killed container printed', () => {
    const error = new ExecutionTimeoutError(500, { stdout: 'partial', stderr: '', truncated: { stdout: false, stderr: false } });
    expect(executionFromError(error)).toEqual({ exitCode: null, stdout: 'partial', stderr: '' });
  });

  it('is undefined for other errors', () => {
    expect(executionFromError(new Error('x'))).toBeUndefined();
  });
});

describe('exit codes and tokens', () => {
  it.each([
    ['completed', 0],
    ['job_failed', 1],
    ['horde_failed', 2],
  ] as const)('%s exits with %i', (outcome, code) => {
    expect(exitCodeFor(outcome)).toBe(code);
  });

  it('keeps bad usage apart from every job outcome', () => {
    expect(EXIT_CODES.usage).toBe(3);
  });

  it.each([
    [`${JOB}-0b6c1d2e-3f40-4a5b-8c6d-7e8f9a0b1c2d`, JOB],
    ['not-an-upstream-token', undefined],
    [JOB, undefined],
  ])('reads the job uuid out of token %s', (token, expected) => {
    expect(jobUuidFromToken(token)).toBe(expected);
  });
});
