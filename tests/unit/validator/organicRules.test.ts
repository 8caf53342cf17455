/**
 * The organic job's pure rules, as tables: the timing sums, excuse validation, and how an ending becomes a terminal
 * status and an outcome.
 */
import {
  acceptedReceiptTtlS,
  DEFAULT_ORGANIC_JOB_TIMINGS,
  executorTimingOf,
  jobLimitsMs,
  organicDeadlineAfter,
  organicJobBudgetMs,
  readinessTimeoutMs,
  resolveOrganicJobTimings,
  timeLeftMs,
} from '../../../src/actors/validator/deadlines';
import { filterValidExcuseReceipts, isExcused, receiptTimeMs, type ExcuseCheck, type ExcuseRefusal } from '../../../src/actors/validator/excuses';
import { hordeFailure, outcomeOf, terminalUpdate, type JobEnding } from '../../../src/actors/validator/organicStatus';
import { devHotkey, initCrypto, pydanticDatetime, signReceiptPayload, type Hotkey } from '../../../src/crypto';
import type { ExecutorClass, Receipt, V0DeclineJobRequest } from '../../../src/protocol';
import { jobRequest } from '../../support/organicJobHarness';

describe('organic job timing', () => {
  const timings = DEFAULT_ORGANIC_JOB_TIMINGS;
  const limits = jobLimitsMs(jobRequest({ download_time_limit: 10, streaming_start_time_limit: 5, execution_time_limit: 30, upload_time_limit: 7 }));

  it.each<[ExecutorClass, number]>([
    ['always_on.test', 3_000 + 5_000],
    ['always_on.gpu-24gb', 3_000 + 5_000],
    ['always_on.llm.a6000', 30_000 + 5_000],
    ['always_on.cpu.8c.16gb', 30_000 + 5_000],
    ['spin_up-4min.gpu-24gb', 240_000 + 5_000],
  ])('waits for readiness of %s for spin-up + startup = %i ms', (executorClass, expected) => {
    expect(readinessTimeoutMs(executorClass, timings)).toBe(expected);
  });

  it('honours per-class spin-up overrides and partial timing overrides', () => {
    const custom = resolveOrganicJobTimings({ spinUpOverridesMs: { 'always_on.test': 100 }, executorStartupTimeLimitMs: 200, reservationTimeLimitMs: undefined });
    expect(readinessTimeoutMs('always_on.test', custom)).toBe(300);
    expect(custom.reservationTimeLimitMs).toBe(7_000);
  });

  it.each<[string, Parameters<typeof organicDeadlineAfter>[0], number, number, number]>([
    // stage, nowMs, current deadline, expected
    ['starts at readiness with leeway + download', 'volumes', 1_000, 0, 1_000 + 5_000 + 10_000],
    ['adds the streaming start', 'streaming', 99_999, 16_000, 21_000],
    ['adds execution to the current deadline, whatever the time', 'execution', 3_000, 16_000, 46_000],
    ['adds upload last', 'upload', 40_000, 46_000, 53_000],
  ])('%s', (_what, stage, nowMs, currentDeadlineMs, expected) => {
    expect(organicDeadlineAfter(stage, { nowMs, currentDeadlineMs, limits, leewayMs: 5_000 })).toBe(expected);
  });

  it.each([
    [10_000, 4_000, 6_000],
    [10_000, 10_000, 0],
    [10_000, 12_000, 0],
  ])('time left until %i at %i is %i', (deadline, now, left) => {
    expect(timeLeftMs(deadline, now)).toBe(left);
  });

  it.each<[boolean, number]>([
    [false, 7_000 + 8_000 + 5_000 + 10_000 + 30_000 + 7_000],
    [true, 7_000 + 8_000 + 5_000 + 10_000 + 5_000 + 30_000 + 7_000],
  ])('bounds the whole job (streaming %s) at %i ms', (streaming, expected) => {
    expect(organicJobBudgetMs('always_on.test', limits, timings, streaming)).toBe(expected);
  });

  it('gives the JobAccepted receipt upstream TTL and the executor the leeway and limits in seconds', () => {
    const request = jobRequest({ download_time_limit: 10, streaming_start_time_limit: 5, execution_time_limit: 30, upload_time_limit: 7 });
    expect(acceptedReceiptTtlS('always_on.test', request, timings)).toBe(8 + 5 + 10 + 30 + 7 + 5);
    expect(executorTimingOf(request, timings)).toEqual({
      allowed_leeway: 5,
      download_time_limit: 10,
      execution_time_limit: 30,
      upload_time_limit: 7,
      streaming_start_time_limit: 5,
    });
  });
});

describe('excuse receipts', () => {
  let self: Hotkey;
  let staked: Hotkey;
  let poor: Hotkey;
  let inactive: Hotkey;
  let stranger: Hotkey;
  let minerKey: Hotkey;
  const CHECK_MS = 1_750_000_000_000;

  beforeAll(async () => {
    await initCrypto();
    self = devHotkey('excuse-self');
    staked = devHotkey('excuse-staked');
    poor = devHotkey('excuse-poor');
    inactive = devHotkey('excuse-inactive');
    stranger = devHotkey('excuse-stranger');
    minerKey = devHotkey('excuse-miner');
  });

  interface ReceiptSpec {
    by?: Hotkey;
    job?: string;
    miner?: string;
    cls?: ExecutorClass;
    atMs?: number;
    ttl?: number;
    type?: 'JobStartedReceipt' | 'JobAcceptedReceipt';
    forge?: boolean;
  }

  function receipt(spec: ReceiptSpec = {}): Receipt {
    const by = spec.by ?? staked;
    const common = {
      job_uuid: spec.job ?? 'busy-job-1',
      miner_hotkey: spec.miner ?? minerKey.ss58,
      validator_hotkey: by.ss58,
      timestamp: pydanticDatetime(spec.atMs ?? CHECK_MS - 3_000),
    };
    const payload =
      spec.type === 'JobAcceptedReceipt'
        ? { ...common, receipt_type: 'JobAcceptedReceipt' as const, time_accepted: common.timestamp, ttl: 60 }
        : { ...common, receipt_type: 'JobStartedReceipt' as const, executor_class: spec.cls ?? 'always_on.test', is_organic: true, ttl: spec.ttl ?? 7 };
    const signature = signReceiptPayload(spec.forge === true ? stranger : by, payload);
    return { payload, validator_signature: signature, miner_signature: '0x00' };
  }

  function check(receipts: Receipt[], overrides: Partial<ExcuseCheck> = {}): ReturnType<typeof filterValidExcuseReceipts> {
    const validators = new Map([
      [staked.ss58, { active: true, stake: 30_000 }],
      [poor.ss58, { active: true, stake: 29_999 }],
      [inactive.ss58, { active: false, stake: 1e9 }],
    ]);
    return filterValidExcuseReceipts({
      receipts,
      minerHotkey: minerKey.ss58,
      jobUuid: 'declined-job',
      executorClass: 'always_on.test',
      selfHotkey: self.ss58,
      checkTimeMs: CHECK_MS,
      validator: (hotkey) => validators.get(hotkey),
      ...overrides,
    });
  }

  it.each<[string, () => ReceiptSpec, ExcuseRefusal | 'valid']>([
    ['a JobStarted receipt of a staked validator, issued 3 s before', () => ({}), 'valid'],
    ['one of our own, whatever our stake', () => ({ by: self }), 'valid'],
    ['a JobAccepted receipt', () => ({ type: 'JobAcceptedReceipt' }), 'not_job_started'],
    ['another miner', () => ({ miner: stranger.ss58 }), 'other_miner'],
    ['the declined job itself', () => ({ job: 'declined-job' }), 'same_job'],
    ['another executor class', () => ({ cls: 'always_on.gpu-24gb' }), 'other_class'],
    ['a validator below 30,000 stake', () => ({ by: poor }), 'validator_not_allowed'],
    ['an inactive validator', () => ({ by: inactive }), 'validator_not_allowed'],
    ['a validator not in the metagraph', () => ({ by: stranger }), 'validator_not_allowed'],
    ['issued at the check time', () => ({ atMs: CHECK_MS }), 'timestamp_too_new'],
    ['expired: ts + ttl + 2 s <= check time', () => ({ atMs: CHECK_MS - 9_000 }), 'expired'],
    ['just alive: ts + ttl + 2 s > check time', () => ({ atMs: CHECK_MS - 8_999 }), 'valid'],
    ['signed by someone else', () => ({ forge: true }), 'bad_signature'],
  ])('%s → %s', (_what, spec, expected) => {
    const result = check([receipt(spec())]);
    if (expected === 'valid') {
      expect(result.valid).toHaveLength(1);
      expect(result.refused).toEqual([]);
    } else {
      expect(result.valid).toHaveLength(0);
      expect(result.refused.map((r) => r.why)).toEqual([expected]);
    }
  });

  it('counts a job once, however many receipts name it, and stops at maxReceipts', () => {
    const result = check([receipt({ job: 'a' }), receipt({ job: 'a', by: self }), receipt({ job: 'b' }), receipt({ job: 'c' })], { maxReceipts: 3 });
    expect(result.valid.map((r) => r.payload.job_uuid)).toEqual(['a', 'b']);
    expect(result.refused.map((r) => r.why)).toEqual(['duplicate', 'over_limit']);
  });

  it('trusts an always-trusted hotkey whatever its stake', () => {
    expect(check([receipt({ by: poor })], { alwaysTrusted: new Set([poor.ss58]) }).valid).toHaveLength(1);
  });

  it.each([
    [2, 2, true],
    [3, 2, true],
    [1, 2, false],
    [0, 1, false],
    [0, 0, true],
    [0, undefined, true],
  ])('%i valid excuses for %s announced executors → excused %s', (valid, announced, expected) => {
    expect(isExcused(valid, announced)).toBe(expected);
  });

  it.each([
    ['2025-01-02T03:04:05.123456Z', 1_735_787_045_123],
    ['2025-01-02T03:04:05Z', 1_735_787_045_000],
    ['2025-01-02T03:04:05+00:00', 1_735_787_045_000],
    ['2025-01-02T05:04:05+02:00', 1_735_787_045_000],
    ['2025-01-02T03:04:05', 1_735_787_045_000],
    ['yesterday', undefined],
  ])('reads the receipt time %s', (text, expected) => {
    expect(receiptTimeMs(text)).toBe(expected);
  });
});

describe('terminal statuses and outcomes', () => {
  const decline = (reason: V0DeclineJobRequest['reason']): V0DeclineJobRequest => ({
    message_type: 'V0DeclineJobRequest',
    job_uuid: 'j',
    message: 'm',
    reason,
    receipts: [],
    context: { k: 1 },
  });
  it.each<[string, JobEnding, string, Record<string, unknown>, ReturnType<typeof outcomeOf>['incident'], boolean]>([
    [
      'completed',
      { kind: 'completed', result: { message_type: 'V0JobFinishedRequest', job_uuid: 'j', docker_process_stdout: 'o', docker_process_stderr: 'e', artifacts: null, upload_results: { k: '{}' } } },
      'completed',
      { miner_response: { docker_process_stdout: 'o', docker_process_stderr: 'e', artifacts: {}, upload_results: { k: '{}' } } },
      undefined,
      false,
    ],
    [
      'excused busy decline',
      { kind: 'rejected', decline: decline('busy'), excused: true, validExcuses: 1, requiredExcuses: 1 },
      'rejected',
      { job_rejection_details: { rejected_by: 'miner', reason: 'busy', message: 'Miner properly excused job', context: { k: 1 } } },
      undefined,
      true,
    ],
    [
      'blacklisted decline',
      { kind: 'rejected', decline: decline('validator_blacklisted'), excused: false, validExcuses: 0, requiredExcuses: 0 },
      'rejected',
      { job_rejection_details: { rejected_by: 'miner', reason: 'validator_blacklisted', message: 'Miner rejected job: m', context: { k: 1 } } },
      'job_rejected',
      false,
    ],
    [
      'our timeout',
      hordeFailure('execution_timed_out', 'late', { incident: 'timed_out' }),
      'horde_failed',
      { horde_failure_details: { reported_by: 'validator', reason: 'execution_timed_out', message: 'late', context: null } },
      'timed_out',
      false,
    ],
  ])('%s', (_what, ending, status, metadata, incident, excused) => {
    const update = terminalUpdate('j', ending);
    expect(update.status).toBe(status);
    expect(update.metadata).toMatchObject(metadata);
    expect(Object.keys(update.metadata!)).toEqual(['miner_response', 'job_rejection_details', 'job_failure_details', 'horde_failure_details', 'streaming_details']);
    expect(outcomeOf('j', 'm', ending)).toEqual({ jobUuid: 'j', minerHotkey: 'm', status, excused, incident });
  });
});
