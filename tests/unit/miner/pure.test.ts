import { dockerOptionsFromAddress, leastLoaded } from '../../../src/actors/miner/backends/docker';
import { receiptHotkeyProblem } from '../../../src/actors/miner/receiptStore.actor';
import { JobRegistry } from '../../../src/actors/miner/jobRegistry';
import { parseManifest, spinUpTimeMs } from '../../../src/actors/miner/manifest';
import { MinerConfigError } from '../../../src/actors/miner/errors';
import { initialRequestForExecutor, relayDecision } from '../../../src/machines/minerJobRelay';
import type { ExecutorToMinerMessage, V0InitialJobRequest } from '../../../src/protocol';
import type { AnyActorRef } from 'xstate';

describe('manifest', () => {
  it.each([
    [{ 'always_on.test': 2 }, { ok: true, value: { 'always_on.test': 2 } }],
    [{}, { ok: true, value: {} }],
    [{ 'always_on.test': -1 }, { ok: false, error: ['"always_on.test": the count must be an integer >= 0'] }],
    [{ 'always_on.test': 1.5 }, { ok: false, error: ['"always_on.test": the count must be an integer >= 0'] }],
    [[], { ok: false, error: ['the manifest must be a JSON object'] }],
  ])('parses %j', (json, expected) => {
    expect(parseManifest(json)).toEqual(expected);
  });

  it('refuses an unknown class, the "unknown" fallback included', () => {
    const r = parseManifest({ unknown: 1, 'gpu.h100': 1 });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toHaveLength(2);
  });

  it.each([
    ['spin_up-4min.gpu-24gb', 240_000],
    ['always_on.test', 3_000],
    ['always_on.llm.a6000', 30_000],
  ] as const)("gives %s upstream's spin-up time of %i ms", (executorClass, ms) => {
    expect(spinUpTimeMs(executorClass)).toBe(ms);
    expect(spinUpTimeMs(executorClass, { [executorClass]: 9 })).toBe(9);
  });
});

describe('docker engines', () => {
  it.each([
    ['/var/run/docker.sock', { socketPath: '/var/run/docker.sock' }],
    ['unix:///run/user/1000/docker.sock', { socketPath: '/run/user/1000/docker.sock' }],
    ['tcp://10.0.0.5:2375', { host: '10.0.0.5', port: 2375, protocol: 'http' }],
    ['tcp://10.0.0.5', { host: '10.0.0.5', port: 2375, protocol: 'http' }],
    ['https://gpu-1.example:2376', { host: 'gpu-1.example', port: 2376, protocol: 'https' }],
    ['ssh://ops@gpu-2.example', { host: 'gpu-2.example', port: 22, protocol: 'ssh', username: 'ops' }],
  ])('reads the engine address %s', (address, options) => {
    expect(dockerOptionsFromAddress(address)).toEqual(options);
  });

  it.each(['gopher://x', 'not a url'])('refuses %s', (address) => {
    expect(() => dockerOptionsFromAddress(address)).toThrow(MinerConfigError);
  });

  it.each([
    [[0], 0],
    [[2, 1, 1], 1],
    [[0, 0, 0], 0],
    [[3, 2, 0], 2],
  ])('sends the next executor to the least loaded engine of %j', (load, index) => {
    expect(leastLoaded(load)).toBe(index);
  });
});

describe('receipt hotkeys', () => {
  it.each([
    [{ miner_hotkey: 'm', validator_hotkey: 'v' }, undefined],
    [{ miner_hotkey: 'x', validator_hotkey: 'v' }, 'wrong_miner_hotkey'],
    [{ miner_hotkey: 'm', validator_hotkey: 'x' }, 'wrong_validator_hotkey'],
  ])('checks %j against the miner and the connection', (payload, problem) => {
    expect(receiptHotkeyProblem(payload, { minerHotkey: 'm', validatorHotkey: 'v' })).toBe(problem);
  });
});

describe('job registry', () => {
  const ref = (waiting: boolean) => ({ waiting }) as unknown as AnyActorRef;
  const entry = (jobUuid: string, waiting = true) => ({
    jobUuid,
    token: `${jobUuid}-t`,
    validatorHotkey: 'v',
    executorClass: 'always_on.test' as const,
    childId: `job:${jobUuid}`,
    ref: ref(waiting),
  });
  const isWaiting = (r: AnyActorRef) => (r as unknown as { waiting: boolean }).waiting;

  it('lets a token be claimed once, and only while its job waits for an executor', () => {
    const registry = new JobRegistry();
    registry.add(entry('a'));
    registry.add(entry('b', false));
    expect(registry.claim('zzz', isWaiting)).toEqual({ ok: false, refusal: 'unknown_token' });
    expect(registry.claim('b-t', isWaiting)).toEqual({ ok: false, refusal: 'not_waiting' });
    expect(registry.claim('a-t', isWaiting).ok).toBe(true);
    expect(registry.claim('a-t', isWaiting)).toEqual({ ok: false, refusal: 'token_used' });
  });

  it('holds what is sent to a job not started yet and hands it over, in order, once its actor is bound', () => {
    const registry = new JobRegistry(2);
    registry.add({ ...entry('a'), ref: undefined });
    const job = registry.get('a')!;
    expect(registry.claim('a-t', () => true)).toEqual({ ok: false, refusal: 'not_waiting' });
    expect(registry.send(job, { type: 'first' })).toBe('queued');
    expect(registry.send(job, { type: 'second' })).toBe('queued');
    expect(registry.send(job, { type: 'third' })).toBe('dropped');
    const received: string[] = [];
    const actor = { waiting: true, send: (event: { type: string }) => void received.push(event.type) } as unknown as AnyActorRef;
    registry.bind('a', actor);
    expect(received).toEqual(['first', 'second']);
    expect(registry.send(job, { type: 'later' })).toBe('sent');
    expect(received).toEqual(['first', 'second', 'later']);
    expect(registry.claim('a-t', isWaiting).ok).toBe(true);
  });

  it('forgets a job whose actor was never started', () => {
    const registry = new JobRegistry();
    registry.add({ ...entry('a'), ref: undefined });
    registry.remove('a');
    expect(registry.size).toBe(0);
    expect(registry.ofValidator('v')).toEqual([]);
  });

  it('refuses a second job with the same uuid and forgets a job by its child id', () => {
    const registry = new JobRegistry();
    expect(registry.add(entry('a'))).toBe(true);
    expect(registry.add(entry('a'))).toBe(false);
    expect(registry.ofValidator('v')).toHaveLength(1);
    registry.removeByChildId('job:a');
    expect(registry.size).toBe(0);
    expect(registry.ofValidator('v')).toEqual([]);
    expect(registry.claim('a-t', isWaiting)).toEqual({ ok: false, refusal: 'unknown_token' });
  });
});

describe('relaying executor messages', () => {
  const context = { jobUuid: 'j', executorIp: '198.51.100.7', signStreamingReady: () => '0xsig' };
  const decide = (message: Record<string, unknown>) => relayDecision(message as ExecutorToMinerMessage, context);

  it.each([
    [{ message_type: 'V0ExecutorReadyRequest', job_uuid: 'j', executor_token: 'secret' }, 'ready', { executor_token: null }],
    [{ message_type: 'V0VolumesReadyRequest', job_uuid: 'j' }, 'relay', {}],
    [{ message_type: 'V0ExecutionDoneRequest', job_uuid: 'j' }, 'relay', {}],
    [{ message_type: 'V0JobFinishedRequest', job_uuid: 'j' }, 'final', {}],
    [{ message_type: 'V0JobFailedRequest', job_uuid: 'j' }, 'final', {}],
    [{ message_type: 'V0HordeFailedRequest', job_uuid: 'j' }, 'final', {}],
    [{ message_type: 'V0ExecutorFailedRequest', job_uuid: 'j' }, 'final', { message_type: 'V0HordeFailedRequest', reason: 'generic_error', reported_by: 'executor' }],
    [{ message_type: 'V0StreamingJobNotReadyRequest', job_uuid: 'j' }, 'final', { message_type: 'V0JobFailedRequest', stage: 'streaming_startup' }],
    [{ message_type: 'GenericError', details: null }, 'final', { message: 'Received GenericError from the executor with no details' }],
    [{ message_type: 'V0VolumesReadyRequest', job_uuid: 'other' }, 'ignore', undefined],
  ])('%j → %s', (message, kind, shape) => {
    const decision = decide(message);
    expect(decision.kind).toBe(kind);
    if (shape !== undefined && 'message' in decision) expect(decision.message).toMatchObject(shape);
  });

  it('fills the streaming address in and signs it, token stripped', () => {
    const decision = decide({ message_type: 'V0StreamingJobReadyRequest', job_uuid: 'j', executor_token: 't', public_key: 'PEM', ip: null, port: 6006, miner_signature: null });
    expect(decision).toEqual({
      kind: 'relay',
      message: { message_type: 'V0StreamingJobReadyRequest', job_uuid: 'j', executor_token: null, public_key: 'PEM', ip: '198.51.100.7', port: 6006, miner_signature: '0xsig' },
    });
  });

  it('gives the executor the initial request with its streaming IP, leaving other requests untouched', () => {
    const plain = { message_type: 'V0InitialJobRequest', streaming_details: null } as unknown as V0InitialJobRequest;
    expect(initialRequestForExecutor(plain, '1.2.3.4')).toBe(plain);
    const streaming = { ...plain, streaming_details: { public_key: 'PEM', executor_ip: null } } as V0InitialJobRequest;
    expect(initialRequestForExecutor(streaming, '1.2.3.4').streaming_details).toEqual({ public_key: 'PEM', executor_ip: '1.2.3.4' });
  });
});
