import path from 'node:path';
import { buildJobContainerSpec } from '../../../src/actors/executor/docker';
import * as errors from '../../../src/actors/executor/errors';
import { downloadRetryDelayMs, isRetryableStatus, uploadRetryDelayMs } from '../../../src/actors/executor/retry';
import { flattenVolume, volumeDestination } from '../../../src/actors/executor/volumes';
import { planZipEntry } from '../../../src/actors/executor/zip';
import type { Volume } from '../../../src/actors/executor/types';

describe('retry policy', () => {
  it.each([
    [1, 0, 1000],
    [2, 0, 2000],
    [3, 0, 4000],
    [1, 0.999, 1100],
    [3, 0.5, 4200],
  ])('download retry %i with U=%d waits %i ms (1, 2, 4 s × (1 + U·0.1))', (retry, u, expected) => {
    expect(downloadRetryDelayMs(retry, () => u)).toBe(expected);
  });

  it.each([
    [1, 1000],
    [2, 2000],
  ])('upload attempt %i is followed by %i ms', (attempt, expected) => {
    expect(uploadRetryDelayMs(attempt)).toBe(expected);
  });

  it.each([
    [500, true],
    [503, true],
    [408, true],
    [429, true],
    [404, false],
    [403, false],
    [400, false],
  ])('status %i retryable: %s', (status, expected) => {
    expect(isRetryableStatus(status)).toBe(expected);
  });
});

describe('executorFailureFor', () => {
  it.each([
    ['executor.volume_bad_zip', { kind: 'job_failed', reason: 'download_failed' }],
    ['executor.volume_unsafe_zip', { kind: 'job_failed', reason: 'download_failed' }],
    ['executor.volume_download_failed', { kind: 'job_failed', reason: 'download_failed' }],
    ['executor.upload_failed', { kind: 'job_failed', reason: 'upload_failed' }],
    ['executor.execution_timeout', { kind: 'job_failed', reason: 'timeout' }],
    ['executor.image_pull_failed', { kind: 'horde_failed', reason: 'generic_error' }],
    ['executor.aborted', { kind: 'none' }],
    ['ECONNRESET', { kind: 'horde_failed', reason: 'unhandled_exception' }],
  ])('%s → %j', (code, failure) => {
    expect(errors.executorFailureFor(code)).toEqual(failure);
  });

  it('has a mapping for the code of every executor error class', () => {
    const output = { stdout: '', stderr: '', truncated: { stdout: false, stderr: false } };
    const samples = [
      new errors.ImageMissingError('x'),
      new errors.ImagePullError('x', 'm', []),
      new errors.ContainerStartError('m'),
      new errors.ExecutionTimeoutError(1, output),
      new errors.ExecutorAbortedError('x'),
      new errors.VolumeUnsupportedError('x', 'y'),
      new errors.VolumeInvalidError('m'),
      new errors.VolumeUnsafeZipError('x', 'y'),
      new errors.VolumeBadZipError('m'),
      new errors.VolumeTooLargeError(1, 'x'),
      new errors.VolumeDownloadError('http://h/x', 'm', 1),
      new errors.UploadFailedError('http://h/x', 'm', 1),
      new errors.UploadRejectedError('m'),
      new errors.ConcurrencyQueueFullError('x', 1),
      new errors.TempDirRemoveError('/d', 'm'),
    ];
    for (const error of samples) expect(errors.EXECUTOR_FAILURES[error.code]).toBeDefined();
  });

  it('keeps presigned query strings out of error messages', () => {
    const error = new errors.UploadFailedError('https://bucket.example/o.zip?X-Amz-Signature=secret', 'HTTP 500', 3);
    expect(error.message).not.toContain('secret');
    expect(error.message).toContain('https://bucket.example/o.zip?…');
  });
});

describe('buildJobContainerSpec', () => {
  const base = {
    image: 'python:3.11',
    cmd: ['python', '-c', 'print(1)'],
    env: { A: '1' },
    volumeDir: '/tmp/j/volume',
    outputDir: '/tmp/j/output',
    labels: { hordeId: 'h1', jobUuid: 'u1', token: 't1' },
  };

  it('isolates the network, mounts volume and output, and labels the container', () => {
    const spec = buildJobContainerSpec(base);
    expect(spec.HostConfig?.NetworkMode).toBe('none');
    expect(spec.HostConfig?.Mounts).toEqual([
      { Type: 'bind', Source: '/tmp/j/volume', Target: '/volume', ReadOnly: false },
      { Type: 'bind', Source: '/tmp/j/output', Target: '/output', ReadOnly: false },
    ]);
    expect(spec.Labels).toEqual({ 'horde.managed': 'true', 'horde.id': 'h1', 'horde.job_uuid': 'u1', 'horde.token': 't1', 'horde.role': 'job' });
    expect(spec.Env).toEqual(['A=1']);
    expect(spec.Cmd).toEqual(['python', '-c', 'print(1)']);
  });

  it('asks for the nvidia runtime and all GPUs only when gpu is enabled', () => {
    const plain = buildJobContainerSpec(base);
    expect(plain.HostConfig?.Runtime).toBeUndefined();
    expect(plain.HostConfig?.DeviceRequests).toBeUndefined();
    const gpu = buildJobContainerSpec({ ...base, gpu: true });
    expect(gpu.HostConfig?.Runtime).toBe('nvidia');
    expect(gpu.HostConfig?.DeviceRequests).toEqual([{ Driver: 'nvidia', Count: -1, Capabilities: [['gpu']] }]);
  });

  it('mounts the artifacts dir where the job asked and refuses a relative one', () => {
    const spec = buildJobContainerSpec({ ...base, artifacts: { hostDir: '/tmp/j/artifacts', containerDir: '/artifacts' } });
    expect(spec.HostConfig?.Mounts).toContainEqual({ Type: 'bind', Source: '/tmp/j/artifacts', Target: '/artifacts', ReadOnly: false });
    expect(() => buildJobContainerSpec({ ...base, artifacts: { hostDir: '/x', containerDir: 'artifacts' } })).toThrow(
      errors.ContainerStartError,
    );
  });

  it('sets memory and CPU limits only when given, and keeps the image default command for an empty cmd', () => {
    const spec = buildJobContainerSpec({ ...base, cmd: [], memoryBytes: 1 << 30, nanoCpus: 2e9 });
    expect(spec.Cmd).toBeUndefined();
    expect(spec.HostConfig?.Memory).toBe(1 << 30);
    expect(spec.HostConfig?.NanoCpus).toBe(2e9);
    expect(buildJobContainerSpec(base).HostConfig?.Memory).toBeUndefined();
  });
});

describe('zip entry safety (planZipEntry)', () => {
  const root = '/tmp/volume';
  const unixFile = (mode: number): [number, number] => [(mode << 16) >>> 0, (3 << 8) | 20];

  it.each(['../evil', 'a/../../evil', '/etc/passwd', 'C:/x', 'a\\..\\..\\x'])('refuses %s', (name) => {
    // yauzl turns backslashes into slashes before validation when names are not strict.
    const normalised = name.replace(/\\/g, '/');
    expect(() => planZipEntry(root, normalised, ...unixFile(0o100644))).toThrow(errors.VolumeUnsafeZipError);
  });

  it('refuses symlinks and special files', () => {
    expect(() => planZipEntry(root, 'link', ...unixFile(0o120777))).toThrow(/symbolic links/);
    expect(() => planZipEntry(root, 'fifo', ...unixFile(0o010644))).toThrow(/special files/);
  });

  it('places ordinary entries below the root', () => {
    expect(planZipEntry(root, 'a/b.txt', ...unixFile(0o100644))).toEqual({ destination: path.join(root, 'a/b.txt'), isDirectory: false });
    expect(planZipEntry(root, 'a/', ...unixFile(0o040755))).toEqual({ destination: path.join(root, 'a'), isDirectory: true });
    // Archives from non-Unix tools carry no mode: judged by name only.
    expect(planZipEntry(root, 'x', 0, 20).isDirectory).toBe(false);
  });
});

describe('volume shape checks', () => {
  it('refuses a multi_volume inside a multi_volume', () => {
    const nested = { volume_type: 'multi_volume', volumes: [{ volume_type: 'multi_volume', volumes: [] }] } as unknown as Volume;
    expect(() => flattenVolume(nested)).toThrow(errors.VolumeInvalidError);
  });

  it('reports Hugging Face volumes as unsupported before anything is fetched', () => {
    const volume: Volume = {
      volume_type: 'multi_volume',
      volumes: [
        { volume_type: 'inline', contents: '' },
        { volume_type: 'huggingface_volume', repo_id: 'org/model' },
      ],
    };
    expect(() => flattenVolume(volume)).toThrow(errors.VolumeUnsupportedError);
  });

  it.each([
    [undefined, false, '/v'],
    ['data', false, '/v/data'],
    ['a/b.bin', true, '/v/a/b.bin'],
  ])('relative_path %s (file: %s) → %s', (relative, required, expected) => {
    expect(volumeDestination('/v', relative, required)).toBe(expected);
  });

  it.each([['../x'], ['/etc/x'], ['a/../../x']])('refuses relative_path %s', (relative) => {
    expect(() => volumeDestination('/v', relative, true)).toThrow(errors.VolumeInvalidError);
  });
});
