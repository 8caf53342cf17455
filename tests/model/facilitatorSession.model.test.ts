/**
 * Model-based test of the facilitator's validator session machine.
 *
 * `model` is a pure protocol model of what a session promises: which commands each validator message causes on
 * the connection (Response success/error, close 3000/3001, authenticated), whether the connection is a member of
 * its validator's group, and when the eviction timer fires. Time is part of the model: `TICK_HALF` lets half the
 * eviction window pass, `TICK_EVICT` lets the rest pass (first to 1 ms before the due time: nothing may happen yet).
 *
 * xstate/graph gives the shortest path to every model state, each extended by every pair of events; each script drives the
 * REAL machine (fake connection handle, fake services, SimulatedClock) and compares the effects step by step.
 */
import { assign, createActor, getInitialSnapshot, getNextSnapshot, SimulatedClock, setup, type SnapshotFrom } from 'xstate';
import { getShortestPaths } from 'xstate/graph';
import {
  createFacilitatorSessionMachine,
  type FacilitatorSessionServices,
  type StatusVerdict,
} from '../../src/machines/facilitatorSession.machine';
import type { ValidatorToFacilitatorMessage } from '../../src/protocol';

const EVICT_MS = 600_000;
const HOTKEY = '5VALIDATOR';

type ModelEvent =
  | { type: 'AUTH_OK' }
  | { type: 'AUTH_BAD_SIGNATURE' }
  | { type: 'AUTH_UNKNOWN' }
  | { type: 'HEARTBEAT' }
  | { type: 'STATUS_NEW' }
  | { type: 'STATUS_DUPLICATE' }
  | { type: 'STATUS_UNKNOWN_JOB' }
  | { type: 'SPECS' }
  | { type: 'MALFORMED' }
  | { type: 'TICK_HALF' }
  | { type: 'TICK_EVICT' }
  | { type: 'CLOSED' };

/** A command the session sends, reduced to what the model predicts. */
type Effect = string;

const model = setup({
  types: { context: {} as { effects: Effect[]; elapsedHalf: boolean }, events: {} as ModelEvent },
  actions: {
    expect: assign((_, params: { effects: Effect[] }) => ({ effects: params.effects })),
    none: assign({ effects: [] as Effect[] }),
  },
}).createMachine({
  id: 'model',
  context: { effects: [], elapsedHalf: false },
  initial: 'awaitingAuth',
  states: {
    awaitingAuth: {
      on: {
        AUTH_OK: { target: 'authenticated', actions: { type: 'expect', params: { effects: ['authenticated', 'success'] } } },
        AUTH_BAD_SIGNATURE: { target: 'refusing', actions: { type: 'expect', params: { effects: ['error:auth.signature_invalid', 'close:3000'] } } },
        AUTH_UNKNOWN: { target: 'refusing', actions: { type: 'expect', params: { effects: ['error:auth.validator_not_found', 'close:3001'] } } },
        HEARTBEAT: { actions: { type: 'expect', params: { effects: ['error:auth.not_authenticated'] } } },
        STATUS_NEW: { actions: { type: 'expect', params: { effects: ['error:auth.not_authenticated'] } } },
        STATUS_DUPLICATE: { actions: { type: 'expect', params: { effects: ['error:auth.not_authenticated'] } } },
        STATUS_UNKNOWN_JOB: { actions: { type: 'expect', params: { effects: ['error:auth.not_authenticated'] } } },
        SPECS: { actions: { type: 'expect', params: { effects: ['error:auth.not_authenticated'] } } },
        MALFORMED: { actions: { type: 'expect', params: { effects: ['error:value_error'] } } },
        CLOSED: { target: 'closed', actions: 'none' },
      },
    },
    refusing: {
      on: { CLOSED: { target: 'closed', actions: 'none' } },
    },
    authenticated: {
      on: {
        AUTH_OK: { actions: { type: 'expect', params: { effects: ['error:auth.already_authenticated'] } } },
        AUTH_BAD_SIGNATURE: { actions: { type: 'expect', params: { effects: ['error:auth.already_authenticated'] } } },
        AUTH_UNKNOWN: { actions: { type: 'expect', params: { effects: ['error:auth.already_authenticated'] } } },
        HEARTBEAT: { actions: assign({ effects: [], elapsedHalf: false }) },
        STATUS_NEW: { actions: { type: 'expect', params: { effects: ['success'] } } },
        STATUS_DUPLICATE: { actions: { type: 'expect', params: { effects: ['error:job.integrity_error'] } } },
        STATUS_UNKNOWN_JOB: { actions: { type: 'expect', params: { effects: ['error:job.not_found'] } } },
        SPECS: { actions: 'none' },
        MALFORMED: { actions: { type: 'expect', params: { effects: ['error:value_error'] } } },
        TICK_HALF: { guard: ({ context }) => !context.elapsedHalf, actions: assign({ effects: [], elapsedHalf: true }) },
        TICK_EVICT: { target: 'evicting', actions: assign({ effects: ['close:3001'], elapsedHalf: false }) },
        CLOSED: { target: 'closed', actions: 'none' },
      },
    },
    evicting: {
      on: { CLOSED: { target: 'closed', actions: 'none' } },
    },
    closed: { type: 'final' },
  },
});

type ModelSnapshot = SnapshotFrom<typeof model>;

const allEvents: ModelEvent[] = (
  ['AUTH_OK', 'AUTH_BAD_SIGNATURE', 'AUTH_UNKNOWN', 'HEARTBEAT', 'STATUS_NEW', 'STATUS_DUPLICATE', 'STATUS_UNKNOWN_JOB', 'SPECS', 'MALFORMED', 'TICK_HALF', 'TICK_EVICT', 'CLOSED'] as const
).map((type) => ({ type }));

function scriptsCoveringTransitions(): Array<{ name: string; events: ModelEvent[] }> {
  const toStates = getShortestPaths(model, { events: allEvents, serializeState: (s) => JSON.stringify({ v: s.value, h: s.context.elapsedHalf }) });
  const scripts = new Map<string, ModelEvent[]>();
  for (const path of toStates) {
    const prefix = path.steps.slice(1).map((step) => step.event);
    // Every pair of events from each state: a timer reset (HEARTBEAT) is only visible through the tick after it.
    for (const first of allEvents) {
      for (const second of allEvents) {
        const events = [...prefix, first, second];
        scripts.set(events.map((e) => e.type).join(' → '), events);
      }
    }
  }
  return [...scripts].map(([name, events]) => ({ name, events }));
}

// Auth messages carry which verdict the fake services give; statuses carry theirs in the uuid.
const authMessage = (verdict: string): ValidatorToFacilitatorMessage => ({ message_type: 'V0AuthenticationRequest', public_key: verdict, signature: '0x' });
const statusMessage = (verdict: StatusVerdict): ValidatorToFacilitatorMessage => ({ message_type: 'V0JobStatusUpdate', uuid: verdict, status: 'received', metadata: null });

interface Harness {
  readonly effects: Effect[];
  members: number;
  heartbeats: number;
}

function harness(): { h: Harness; services: FacilitatorSessionServices } {
  const h: Harness = { effects: [], members: 0, heartbeats: 0 };
  const services: FacilitatorSessionServices = {
    verifyAuth: (message) =>
      message.public_key === 'ok'
        ? { kind: 'ok', hotkey: HOTKEY }
        : message.public_key === 'bad'
          ? { kind: 'bad_signature', message: 'bad signature' }
          : { kind: 'unknown_validator', hotkey: HOTKEY, message: 'unknown' },
    attach: () => void (h.members += 1),
    detach: () => void (h.members -= 1),
    heartbeat: () => void (h.heartbeats += 1),
    storeStatus: (_hotkey, update) => update.uuid as StatusVerdict,
    machineSpecs: () => undefined,
    evictAfterMs: EVICT_MS,
    observer: { opened: () => undefined, closed: () => undefined, outcome: () => undefined, log: () => undefined },
  };
  return { h, services };
}

function effectOf(command: { type: string; message?: unknown; code?: number }): Effect {
  if (command.type === 'connection.authenticated') return 'authenticated';
  if (command.type === 'connection.close') return `close:${command.code}`;
  const message = command.message as { status?: string; errors?: Array<{ type: string }> };
  return message.status === 'success' ? 'success' : `error:${message.errors?.[0]?.type ?? '?'}`;
}

const scripts = scriptsCoveringTransitions();

describe('facilitator session machine agrees with its model', () => {
  it('enumerates every transition of the model', () => {
    // 6 protocol states (authenticated twice: with and without half the window gone; closed twice) × 12 × 12 pairs.
    expect(scripts.length).toBe(7 * allEvents.length * allEvents.length);
  });

  it.each(scripts.map((s) => [s.name, s.events] as const))('%s', (_name, events) => {
    const { h, services } = harness();
    const clock = new SimulatedClock();
    const connection = { send: (command: { type: string }) => h.effects.push(effectOf(command)) };
    const actor = createActor(createFacilitatorSessionMachine(services), {
      clock,
      input: { connectionId: 'facilitator-1', route: 'facilitator', params: {}, headers: {}, remoteAddress: '127.0.0.1', reliable: false, connection: connection as never },
    });
    actor.start();
    let expected: ModelSnapshot = getInitialSnapshot(model);
    try {
      for (const event of events) {
        const next = getNextSnapshot(model, expected, event);
        // Time only passes when the model lets it (a second half-window would just be the eviction).
        if (next === expected && event.type.startsWith('TICK')) continue;
        h.effects.length = 0;
        switch (event.type) {
          case 'AUTH_OK':
            actor.send({ type: 'connection.message', message: authMessage('ok') });
            break;
          case 'AUTH_BAD_SIGNATURE':
            actor.send({ type: 'connection.message', message: authMessage('bad') });
            break;
          case 'AUTH_UNKNOWN':
            actor.send({ type: 'connection.message', message: authMessage('unknown') });
            break;
          case 'HEARTBEAT':
            actor.send({ type: 'connection.message', message: { message_type: 'V0Heartbeat' } });
            break;
          case 'STATUS_NEW':
            actor.send({ type: 'connection.message', message: statusMessage('stored') });
            break;
          case 'STATUS_DUPLICATE':
            actor.send({ type: 'connection.message', message: statusMessage('duplicate') });
            break;
          case 'STATUS_UNKNOWN_JOB':
            actor.send({ type: 'connection.message', message: statusMessage('not_found') });
            break;
          case 'SPECS':
            actor.send({
              type: 'connection.message',
              message: { message_type: 'V0MachineSpecsUpdate', miner_hotkey: 'm', validator_hotkey: HOTKEY, specs: {}, batch_id: 'b' },
            });
            break;
          case 'MALFORMED':
            actor.send({ type: 'connection.decode_error', error: { code: 'frame.invalid_field', message: 'bad', path: 'metadata.x' } });
            break;
          case 'TICK_HALF':
            clock.increment(EVICT_MS / 2);
            break;
          case 'TICK_EVICT': {
            const remaining = expected.context.elapsedHalf ? EVICT_MS / 2 : EVICT_MS;
            clock.increment(remaining - 1);
            // To the millisecond: nothing yet.
            expect(h.effects).toEqual([]);
            clock.increment(1);
            break;
          }
          case 'CLOSED':
            actor.send({ type: 'connection.closed', code: 1000, reason: '', initiator: 'peer' });
            break;
        }
        // An event the model ignores in this state must cause nothing.
        expect(h.effects).toEqual(next === expected ? [] : next.context.effects);
        expected = next;
        expect(actor.getSnapshot().matches(expected.value as never)).toBe(true);
        // Member of the validator's group exactly while authenticated (eviction and close leave it).
        expect(h.members).toBe(expected.matches('authenticated') ? 1 : 0);
        expect(actor.getSnapshot().status).toBe(expected.matches('closed') ? 'done' : 'active');
      }
    } finally {
      actor.stop();
    }
    expect(h.members).toBe(0);
  });
});
