import { createActor, fromCallback, type AnyActorRef, type EventObject } from 'xstate';
import {
  createValidatorSessionLogic,
  createValidatorSessionMachine,
  type ValidatorSessionServices,
  type ValidatorStanding,
} from '../../../src/machines/validatorSession.machine';
import type { ValidatorToMinerMessage } from '../../../src/protocol';

const HOTKEY = '5GbVPzNr7ANGAWbDPL9KxB6DVZ26TDCKz2vuCQ1MSMaBagvq';

const auth = (signature = 'good'): ValidatorToMinerMessage => ({
  message_type: 'ValidatorAuthForMiner',
  validator_hotkey: HOTKEY,
  miner_hotkey: 'miner',
  timestamp: 1,
  signature,
});

const actors: AnyActorRef[] = [];
afterEach(() => {
  for (const actor of actors.splice(0)) actor.stop();
});

type Build = typeof createValidatorSessionMachine;
let build: Build = createValidatorSessionMachine;

function setup(options: { standing?: ValidatorStanding; capacity?: number; blacklisted?: boolean } = {}) {
  const commands: Array<EventObject & Record<string, unknown>> = [];
  const calls: string[] = [];
  const connection = createActor(
    fromCallback<EventObject>(({ receive }) => receive((e) => void commands.push(e))),
  ).start();
  actors.push(connection);
  const services: ValidatorSessionServices = {
    standing: () => options.standing ?? 'active',
    verifyAuth: (message) => (message.signature === 'good' ? { ok: true } : { ok: false, message: 'msg too old' }),
    manifest: () => ({ 'always_on.test': 2 }),
    mainHotkey: () => 'main-hotkey',
    isBlacklisted: () => options.blacklisted ?? false,
    startJob: (request) => {
      calls.push(`startJob:${request.job_uuid}`);
      return request.job_uuid === 'dup' ? { kind: 'duplicate' } : { kind: 'started' };
    },
    attachJobs: (hotkey, link) => calls.push(`attach:${hotkey}:${link.sessionId}`),
    detachJobs: (hotkey, sessionId) => calls.push(`detach:${hotkey}:${sessionId}`),
    routeJobRequest: (_hotkey, message) => {
      calls.push(`route:${message.job_uuid}`);
      return message.job_uuid === 'known';
    },
    submitReceipt: (_hotkey, message) => calls.push(`receipt:${message.message_type}`),
    nowMs: () => 0,
    preAuthQueueCapacity: options.capacity ?? 8,
    observer: {
      opened: () => calls.push('opened'),
      closed: () => calls.push('closed'),
      outcome: (o) => calls.push(`outcome:${o}`),
      dropped: (q) => calls.push(`dropped:${q}`),
      log: () => undefined,
    },
  };
  const session = createActor(build(services), {
    input: {
      connectionId: 'validator-7',
      route: 'validator',
      params: { validator_hotkey: HOTKEY },
      headers: {},
      remoteAddress: '127.0.0.1',
      reliable: false,
      connection: connection,
    },
  }).start();
  actors.push(session);
  const message = (m: ValidatorToMinerMessage | Record<string, unknown>) => session.send({ type: 'connection.message', message: m } as never);
  const sentMessages = () => commands.filter((c) => c.type === 'connection.send').map((c) => c['message'] as Record<string, unknown>);
  return { session, commands, calls, message, sentMessages };
}

// The machine, and the logic the miner runs (the machine with its fast path): both must behave the same.
describe.each([
  ['the machine', createValidatorSessionMachine],
  ['the fast-path logic', createValidatorSessionLogic],
] as const)('validator session (%s)', (_name, builder) => {
  beforeEach(() => {
    build = builder;
  });

  it('refuses an unknown validator with GenericError and ends (the connection closes with 1000)', () => {
    const t = setup({ standing: 'unknown' });
    expect(t.sentMessages()).toEqual([{ message_type: 'GenericError', details: `Unknown validator: ${HOTKEY}` }]);
    expect(t.session.getSnapshot().status).toBe('done');
    expect(t.calls).toContain('outcome:unknown_validator');
  });

  it('refuses an inactive validator the same way', () => {
    const t = setup({ standing: 'inactive' });
    expect(t.sentMessages()).toEqual([{ message_type: 'GenericError', details: `Inactive validator: ${HOTKEY}` }]);
    expect(t.session.getSnapshot().status).toBe('done');
  });

  it('sends nothing before authentication and refuses a bad authentication with its reason', () => {
    const t = setup();
    t.message({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    expect(t.sentMessages()).toEqual([]);
    t.message(auth('stale'));
    expect(t.sentMessages()).toEqual([
      { message_type: 'GenericError', details: `Validator ${HOTKEY} not authenticated due to: msg too old` },
    ]);
    expect(t.session.getSnapshot().status).toBe('done');
    expect(t.calls).toContain('outcome:auth_refused');
  });

  it('pushes the manifest right after auth, replays what came earlier in order, then attaches the validator jobs', () => {
    const t = setup();
    t.message({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    t.message({ message_type: 'V0JobRequest', job_uuid: 'known' });
    t.message(auth());
    expect(t.commands[0]).toEqual({ type: 'connection.authenticated', identity: HOTKEY });
    expect(t.sentMessages()).toEqual([
      { message_type: 'V0ExecutorManifestRequest', manifest: { 'always_on.test': 2 } },
      { message_type: 'V0MainHotkeyMessage', main_hotkey: 'main-hotkey' },
    ]);
    expect(t.calls.filter((c) => !c.startsWith('opened'))).toEqual([
      'outcome:authenticated',
      'route:known',
      `attach:${HOTKEY}:validator-7`,
    ]);
  });

  it('answers a malformed frame with GenericError and keeps serving', () => {
    const t = setup();
    t.message(auth());
    t.session.send({ type: 'connection.decode_error', error: { code: 'frame.malformed_json', message: 'bad json' } });
    t.message({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    expect(t.sentMessages().slice(1)).toEqual([
      { message_type: 'GenericError', details: 'Malformed message: bad json' },
      { message_type: 'V0MainHotkeyMessage', main_hotkey: 'main-hotkey' },
    ]);
    expect(t.session.getSnapshot().status).toBe('active');
  });

  it('drops messages past the pre-auth queue capacity and says so', () => {
    const t = setup({ capacity: 1 });
    t.message({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    t.message({ message_type: 'V0MainHotkeyMessage', main_hotkey: null });
    expect(t.sentMessages()).toEqual([{ message_type: 'GenericError', details: 'Too many messages before authentication; message dropped' }]);
    expect(t.calls).toContain('dropped:pre_auth');
    t.message(auth());
    expect(t.sentMessages().filter((m) => m['message_type'] === 'V0MainHotkeyMessage')).toHaveLength(1);
  });

  it('starts a job per initial request and tells a validator about a duplicate uuid', () => {
    const t = setup();
    t.message(auth());
    t.message({ message_type: 'V0InitialJobRequest', job_uuid: 'fresh' });
    t.message({ message_type: 'V0InitialJobRequest', job_uuid: 'dup' });
    expect(t.calls).toContain('startJob:fresh');
    expect(t.sentMessages().at(-1)).toEqual({ message_type: 'GenericError', details: 'Job dup already exists' });
  });

  it('declines every job of a blacklisted validator', () => {
    const t = setup({ blacklisted: true });
    t.message(auth());
    t.message({ message_type: 'V0InitialJobRequest', job_uuid: 'j' });
    expect(t.sentMessages().at(-1)).toMatchObject({ message_type: 'V0DeclineJobRequest', job_uuid: 'j', reason: 'validator_blacklisted' });
    expect(t.calls).not.toContain('startJob:j');
  });

  it('answers a job request for an unknown job with GenericError', () => {
    const t = setup();
    t.message(auth());
    t.message({ message_type: 'V0JobRequest', job_uuid: 'nope' });
    expect(t.sentMessages().at(-1)).toEqual({ message_type: 'GenericError', details: 'Received JobRequest for unknown job_uuid: nope' });
  });

  it('hands receipts to the receipt store', () => {
    const t = setup();
    t.message(auth());
    t.message({ message_type: 'V0JobAcceptedReceiptRequest' });
    t.message({ message_type: 'V0JobFinishedReceiptRequest' });
    expect(t.calls.filter((c) => c.startsWith('receipt:'))).toEqual([
      'receipt:V0JobAcceptedReceiptRequest',
      'receipt:V0JobFinishedReceiptRequest',
    ]);
  });

  it('detaches the validator jobs when the connection closes, and counts the session closed', () => {
    const t = setup();
    t.message(auth());
    t.session.send({ type: 'connection.closed', code: 1006, reason: '', initiator: 'peer' });
    expect(t.calls).toContain(`detach:${HOTKEY}:validator-7`);
    expect(t.session.getSnapshot().status).toBe('done');
    expect(t.calls.filter((c) => c === 'opened' || c === 'closed')).toEqual(['opened', 'closed']);
  });
});

describe('validator session fast path', () => {
  beforeEach(() => {
    build = createValidatorSessionLogic;
  });

  it('serves an initial request without a state change, and leaves a repeated bad auth to the machine', () => {
    const t = setup();
    t.message(auth());
    const before = t.session.getSnapshot();
    t.message({ message_type: 'V0InitialJobRequest', job_uuid: 'fresh' });
    expect(t.calls).toContain('startJob:fresh');
    expect(t.session.getSnapshot()).toBe(before);
    t.message(auth('stale'));
    expect(t.session.getSnapshot().status).toBe('done');
    expect(t.sentMessages().at(-1)).toEqual({
      message_type: 'GenericError',
      details: `Validator ${HOTKEY} not authenticated due to: msg too old`,
    });
  });
});
