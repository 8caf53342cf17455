import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatelyInspectionEvent } from '@statelyai/inspect';
import { assign, createActor, setup } from 'xstate';
import {
  createFileInspector,
  inspectorFromEnv,
  sanitizeInspectionEvent,
  validateInspectorUrl,
} from '../../../src/telemetry/inspector';
import { createInspectorInstruments } from '../../../src/telemetry/metrics';
import { testMeter, type TestMeter } from './metric-reader';

const SECRETS = {
  mnemonic: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk',
  signingKey: '0x5f1e9d1c0ffee',
  configToken: 'tok-from-machine-config',
  eventSignature: '0xsig-in-event',
};

const wallet = setup({
  types: {
    input: {} as { hotkey: string; mnemonic: string },
    context: {} as { hotkey: string; mnemonic: string; signingKey: string; apiToken: string; signed: number },
    events: {} as { type: 'wallet.sign'; payload: string; signature: string },
  },
}).createMachine({
  id: 'wallet',
  // A secret in the machine config leaks through the `@xstate.actor` definition unless the sanitizer parses it.
  context: ({ input }) => ({
    hotkey: input.hotkey,
    mnemonic: input.mnemonic,
    signingKey: SECRETS.signingKey,
    apiToken: SECRETS.configToken,
    signed: 0,
  }),
  initial: 'ready',
  states: {
    // can sign payloads
    ready: { on: { 'wallet.sign': { actions: assign({ signed: ({ context }) => context.signed + 1 }) } } },
  },
});

describe('JSONL inspector recorder', () => {
  let dir: string;
  let metrics: TestMeter;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'horde-inspect-'));
    metrics = testMeter();
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    await metrics.shutdown();
  });

  it('records every actor event as a JSON line, with secrets redacted', async () => {
    const path = join(dir, 'wallet.jsonl');
    const recorder = createFileInspector({ path, instruments: createInspectorInstruments(metrics.meter) });
    const actor = createActor(wallet, {
      input: { hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', mnemonic: SECRETS.mnemonic },
      inspect: recorder.inspect,
    }).start();
    actor.send({ type: 'wallet.sign', payload: 'hello', signature: SECRETS.eventSignature });
    actor.stop();
    await recorder.stop();

    const text = readFileSync(path, 'utf8');
    const lines = text.trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l) as StatelyInspectionEvent);
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(['@xstate.actor', '@xstate.event', '@xstate.snapshot']));
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
    expect(text).toContain('5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty');
    expect(text).toContain('[redacted]');
    const signed = events.find((e) => e.type === '@xstate.event' && e.event.type === 'wallet.sign');
    expect(signed).toMatchObject({ event: { payload: 'hello', signature: '[redacted]' } });
  });

  it('counts the events it drops once stopped', async () => {
    const path = join(dir, 'late.jsonl');
    const recorder = createFileInspector({ path, instruments: createInspectorInstruments(metrics.meter) });
    await recorder.stop();
    jest.useFakeTimers();
    try {
      const actor = createActor(wallet, { input: { hotkey: 'h', mnemonic: 'm' }, inspect: recorder.inspect }).start();
      actor.stop();
      jest.runOnlyPendingTimers(); // the Stately inspector hands each event over in a setTimeout(0)
    } finally {
      jest.useRealTimers();
    }
    expect(await metrics.value('horde_inspector_dropped_events', { sink: 'file', reason: 'closed' })).toBeGreaterThan(0);
  });

  it('reports a file it cannot open instead of crashing', async () => {
    const errors: unknown[] = [];
    const recorder = createFileInspector({
      path: join(dir, 'missing-dir', 'x.jsonl'),
      instruments: createInspectorInstruments(metrics.meter),
      onError: (e) => errors.push(e),
    });
    const actor = createActor(wallet, { input: { hotkey: 'h', mnemonic: 'm' }, inspect: recorder.inspect }).start();
    actor.stop();
    await recorder.stop();
    expect(errors).toEqual([expect.objectContaining({ code: 'ENOENT' })]);
  });
});

describe('sanitizeInspectionEvent', () => {
  it('re-serializes the machine definition without its secrets', () => {
    const event = {
      type: '@xstate.actor',
      name: 'wallet',
      sessionId: 'x:1',
      createdAt: '0',
      _version: '0.7.2',
      rootId: 'x:0',
      parentId: undefined,
      id: 'x',
      definition: JSON.stringify({ id: 'wallet', context: { apiToken: 'tok', hotkey: 'h' } }),
      snapshot: { status: 'active', context: { password: 'pw' } },
    } as unknown as StatelyInspectionEvent;
    const out = sanitizeInspectionEvent(event) as { definition: string; snapshot: { context: unknown } };
    expect(JSON.parse(out.definition)).toEqual({ id: 'wallet', context: { apiToken: '[redacted]', hotkey: 'h' } });
    expect(out.snapshot.context).toEqual({ password: '[redacted]' });
  });

  it('drops a definition it cannot parse rather than pass it on', () => {
    const event = { type: '@xstate.actor', definition: '{not json', snapshot: {} } as unknown as StatelyInspectionEvent;
    expect((sanitizeInspectionEvent(event) as { definition?: string }).definition).toBeUndefined();
  });
});

describe('inspector configuration', () => {
  it('is off unless asked for', () => {
    expect(inspectorFromEnv({})).toBeUndefined();
    expect(inspectorFromEnv({ HORDE_INSPECT: '', HORDE_INSPECT_FILE: '' })).toBeUndefined();
  });

  it.each(['http://127.0.0.1:8080', 'localhost:8080', 'not a url'])('rejects %s as a bridge URL', (url) => {
    let thrown: unknown;
    try {
      validateInspectorUrl(url);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({ code: 'telemetry.inspector_config' });
  });

  it.each(['ws://127.0.0.1:8080', 'wss://inspect.example:443/x'])('accepts %s', (url) => {
    expect(() => validateInspectorUrl(url)).not.toThrow();
  });
});
