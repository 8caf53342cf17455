/**
 * The job driver's single deadline (src/machines/jobDeadline.ts): set for startup, re-set at ready, then only
 * extended, so time a stage leaves unused carries over (upstream JobDriver.execute).
 */
import { containerDeadlineMs, deadlineAfterStage, jobTimingFrom, timeLeftMs, type DeadlineStage, type JobTiming } from '../../src/machines/jobDeadline';

const staged: JobTiming = { mode: 'staged', leewayMs: 5_000, downloadMs: 30_000, streamingStartMs: 5_000, executionMs: 120_000, uploadMs: 30_000 };
const single: JobTiming = { mode: 'single', totalMs: 300_000 };

describe('jobTimingFrom', () => {
  it.each([
    [
      'executor_timing in seconds becomes staged milliseconds',
      { executor_timing: { allowed_leeway: 5, download_time_limit: 30, execution_time_limit: 120, upload_time_limit: 30, streaming_start_time_limit: 5 } },
      staged,
    ],
    [
      'executor_timing wins over the legacy timeout_seconds',
      { timeout_seconds: 9, executor_timing: { allowed_leeway: 0, download_time_limit: 1, execution_time_limit: 2, upload_time_limit: 3, streaming_start_time_limit: 4 } },
      { mode: 'staged', leewayMs: 0, downloadMs: 1_000, streamingStartMs: 4_000, executionMs: 2_000, uploadMs: 3_000 },
    ],
    ['timeout_seconds alone is one budget', { timeout_seconds: 300, executor_timing: null }, single],
    ['neither is no timing (a horde failure upstream)', { timeout_seconds: null, executor_timing: null }, undefined],
    [
      'a negative limit is refused',
      { executor_timing: { allowed_leeway: -1, download_time_limit: 1, execution_time_limit: 1, upload_time_limit: 1, streaming_start_time_limit: 1 } },
      undefined,
    ],
    ['a negative timeout_seconds is refused', { timeout_seconds: -5 }, undefined],
  ] as const)('%s', (_name, initial, expected) => {
    expect(jobTimingFrom(initial)).toEqual(expected);
  });
});

describe('deadlineAfterStage', () => {
  const base = { startupTimeLimitMs: 5_000 };
  it.each<[string, DeadlineStage, { nowMs: number; currentDeadlineMs: number; timing?: JobTiming; streaming?: boolean }, number]>([
    ['startup is now + the startup budget, timing unknown yet', 'executor_startup', { nowMs: 100, currentDeadlineMs: 0 }, 5_100],
    ['ready re-sets it to now + leeway + download', 'volume_download', { nowMs: 2_000, currentDeadlineMs: 7_000, timing: staged }, 37_000],
    ['execution extends it by the execution limit', 'execution', { nowMs: 10_000, currentDeadlineMs: 37_000, timing: staged }, 157_000],
    ['a streaming job also gets the streaming start limit', 'execution', { nowMs: 10_000, currentDeadlineMs: 37_000, timing: staged, streaming: true }, 162_000],
    ['upload extends it by the upload limit', 'result_upload', { nowMs: 50_000, currentDeadlineMs: 157_000, timing: staged }, 187_000],
    ['an extension does not depend on when it happens', 'result_upload', { nowMs: 156_999, currentDeadlineMs: 157_000, timing: staged }, 187_000],
    ['single mode: ready starts the one budget', 'volume_download', { nowMs: 2_000, currentDeadlineMs: 7_000, timing: single }, 302_000],
    ['single mode: execution does not extend it', 'execution', { nowMs: 9_000, currentDeadlineMs: 302_000, timing: single }, 302_000],
    ['single mode: upload does not extend it', 'result_upload', { nowMs: 9_000, currentDeadlineMs: 302_000, timing: single }, 302_000],
  ])('%s', (_name, stage, input, expected) => {
    expect(deadlineAfterStage(stage, { ...base, ...input })).toBe(expected);
  });

  it('carries time a stage did not use over to the next one', () => {
    const ready = deadlineAfterStage('volume_download', { ...base, nowMs: 1_000, currentDeadlineMs: 0, timing: staged });
    // the download took 1 s of its 30 s: execution still ends leeway + download + execution after ready
    const execution = deadlineAfterStage('execution', { ...base, nowMs: 2_000, currentDeadlineMs: ready, timing: staged });
    expect(execution - 1_000).toBe(staged.mode === 'staged' ? staged.leewayMs + staged.downloadMs + staged.executionMs : NaN);
  });

  it('refuses a later stage without timing (a bug in the caller)', () => {
    expect(() => deadlineAfterStage('execution', { ...base, nowMs: 0, currentDeadlineMs: 0 })).toThrow(RangeError);
  });
});

describe('timeLeftMs', () => {
  it.each([
    [10_000, 4_000, 6_000],
    [10_000, 10_000, 0],
    [10_000, 12_000, 0],
  ])('deadline %i at %i leaves %i', (deadline, now, left) => {
    expect(timeLeftMs(deadline, now)).toBe(left);
  });
});

describe('containerDeadlineMs', () => {
  it.each<[string, JobTiming | undefined, number, number]>([
    ['caps the container at its execution limit, as upstream', staged, 155_000, 120_000],
    ['keeps the report reserve when the deadline is nearer than the limit', staged, 60_000, 59_000],
    ['gives the legacy single budget all of the time left but the reserve', single, 300_000, 299_000],
    ['never goes below 1 ms', staged, 500, 1],
  ])('%s', (_name, timing, timeLeft, expected) => {
    expect(containerDeadlineMs({ timing, timeLeftMs: timeLeft, reserveMs: 1_000 })).toBe(expected);
  });
});
