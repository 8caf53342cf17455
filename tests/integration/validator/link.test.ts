/**
 * The facilitator link against a real `ws` facilitator (the scripted one) on 127.0.0.1, with a real SQLite outbox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { devHotkey, initCrypto } from '../../../src/crypto';
import type { JobStatus, V0JobCheated, V2JobRequest } from '../../../src/protocol';
import { startFacilitatorLink, type FacilitatorLinkHandle, type FacilitatorLinkOptions } from '../../../src/actors/validator/facilitatorLink';
import { openValidatorStore, type ValidatorStore } from '../../../src/actors/validator/store';
import { silentLogger } from '../../../src/telemetry/logger';
import { seededRandom } from '../../../src/util/clock';
import { ScriptedFacilitator, signedJobRequest } from '../../support/scriptedFacilitator';

const FLOW: JobStatus[] = ['received', 'accepted', 'executor_ready', 'volumes_ready', 'execution_done', 'completed'];

describe('facilitator link over real sockets', () => {
  let dir: string;
  let facilitator: ScriptedFacilitator;
  const stores: ValidatorStore[] = [];
  const links: FacilitatorLinkHandle[] = [];
  const validator = () => devHotkey('link-validator');

  beforeAll(() => initCrypto());
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'horde-link-'));
    facilitator = await ScriptedFacilitator.start();
  });
  afterEach(async () => {
    for (const link of links.splice(0)) await link.stop();
    for (const store of stores.splice(0)) store.close();
    await facilitator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const openStore = (): ValidatorStore => {
    const store = openValidatorStore(join(dir, 'validator.sqlite3'));
    stores.push(store);
    return store;
  };

  const startLink = (store: ValidatorStore, extra: Partial<FacilitatorLinkOptions> = {}): FacilitatorLinkHandle => {
    const link = startFacilitatorLink({
      url: facilitator.url,
      validator: validator(),
      store,
      onJob: () => undefined,
      onCheated: () => undefined,
      random: seededRandom(7),
      logger: silentLogger,
      transportOptions: { reconnectBaseMs: 50, reconnectCapMs: 200 },
      authRetry: { baseMs: 50, capMs: 200, multiplier: 2 },
      ...extra,
    });
    links.push(link);
    return link;
  };

  const reportFlow = (store: ValidatorStore, link: FacilitatorLinkHandle | undefined, uuid: string, statuses = FLOW): void => {
    for (const status of statuses) {
      store.report({ message_type: 'V0JobStatusUpdate', uuid, status, metadata: null });
      link?.kick();
    }
  };

  const everyStatusOnce = (uuids: string[], statuses = FLOW): boolean => uuids.every((u) => facilitator.statuses(u).join() === statuses.join());

  it('authenticates with a verified V0AuthenticationRequest and sends a heartbeat every interval', async () => {
    const link = startLink(openStore(), { heartbeatIntervalMs: 100 });
    await link.whenAuthenticated();
    expect(link.connected).toBe(true);
    expect(facilitator.authenticatedCount).toBe(1);
    await facilitator.waitFor(() => facilitator.received('V0Heartbeat').length >= 4, 'four heartbeats');
    const first = facilitator.frames.find((f) => f.direction === 'in');
    expect(first?.type).toBe('V0AuthenticationRequest');
  });

  it('delivers statuses reported while the facilitator is down once it is back, exactly once', async () => {
    const store = openStore();
    await facilitator.stop();
    const link = startLink(store);
    const uuids = ['job-a', 'job-b', 'job-c'];
    for (const uuid of uuids) reportFlow(store, link, uuid);
    await new Promise((r) => setTimeout(r, 300)); // a few refused dials
    expect(link.connected).toBe(false);
    await facilitator.start();
    await facilitator.waitFor(() => store.pendingCount() === 0, 'the outbox to drain');
    expect(everyStatusOnce(uuids)).toBe(true);
    expect(facilitator.storedCount).toBe(uuids.length * FLOW.length);
    // sent in report order
    const order = facilitator.received('V0JobStatusUpdate').map((f) => JSON.parse(f.text) as { uuid: string; status: string });
    expect(order.map((o) => `${o.uuid}:${o.status}`)).toEqual(uuids.flatMap((u) => FLOW.map((s) => `${u}:${s}`)));
  });

  it('stores every status exactly once when the facilitator restarts mid-stream', async () => {
    const store = openStore();
    const link = startLink(store, { window: 8 });
    await link.whenAuthenticated();
    const uuids = Array.from({ length: 10 }, (_, i) => `job-${i}`);
    facilitator.holdResponses(); // statuses are stored but their answers never leave: all in flight at the restart
    for (const uuid of uuids.slice(0, 5)) reportFlow(store, link, uuid);
    await facilitator.waitFor(() => facilitator.received('V0JobStatusUpdate').length === 8, 'a full window in flight');
    expect(facilitator.storedCount).toBe(8);
    await facilitator.restart();
    facilitator.releaseResponses();
    for (const uuid of uuids.slice(5)) reportFlow(store, link, uuid);
    await facilitator.waitFor(() => store.pendingCount() === 0, 'the outbox to drain');
    expect(everyStatusOnce(uuids)).toBe(true);
    expect(facilitator.integrityErrors).toBe(8); // the window sent before the restart, answered as duplicates
    expect(facilitator.totalConnections).toBe(2);
  });

  it('resends pending rows after the validator process restarts (store reopened, new link)', async () => {
    const store = openStore();
    const link = startLink(store);
    await link.whenAuthenticated();
    facilitator.holdResponses();
    reportFlow(store, link, 'job-r');
    await facilitator.waitFor(() => facilitator.received('V0JobStatusUpdate').length === FLOW.length, 'all sent');
    await link.stop();
    store.close();
    facilitator.releaseResponses(); // the old connection is gone: these answers are lost
    reportFlow(openStore(), undefined, 'job-s', ['received']);

    const reopened = openStore();
    expect(reopened.pendingCount()).toBe(FLOW.length + 1);
    const second = startLink(reopened);
    await facilitator.waitFor(() => reopened.pendingCount() === 0, 'the reopened outbox to drain');
    expect(facilitator.statuses('job-r')).toEqual(FLOW);
    expect(facilitator.statuses('job-s')).toEqual(['received']);
    expect(facilitator.integrityErrors).toBe(FLOW.length);
    expect(second.connected).toBe(true);
  });

  it('keeps at most `window` statuses in flight', async () => {
    const store = openStore();
    const link = startLink(store, { window: 4 });
    await link.whenAuthenticated();
    facilitator.holdResponses();
    for (let i = 0; i < 5; i++) reportFlow(store, link, `job-${i}`);
    await facilitator.waitFor(() => facilitator.received('V0JobStatusUpdate').length === 4, 'a window');
    await new Promise((r) => setTimeout(r, 200));
    expect(facilitator.received('V0JobStatusUpdate')).toHaveLength(4);
    facilitator.releaseResponses();
    facilitator.holdResponses(); // the 4 answers went out; hold the next window's
    await facilitator.waitFor(() => facilitator.received('V0JobStatusUpdate').length === 8, 'the next window');
    await new Promise((r) => setTimeout(r, 200));
    expect(facilitator.received('V0JobStatusUpdate')).toHaveLength(8);
    expect(store.pendingCount()).toBe(5 * FLOW.length - 4);
    facilitator.releaseResponses();
    await facilitator.waitFor(() => store.pendingCount() === 0, 'the outbox to drain');
  });

  it('backs off and retries when the facilitator refuses authentication (close 3001)', async () => {
    facilitator.authMode = 'refuse';
    const store = openStore();
    const link = startLink(store);
    reportFlow(store, link, 'job-x', ['received']);
    await facilitator.waitFor(() => facilitator.totalConnections >= 3, 'three refused attempts');
    expect(link.connected).toBe(false);
    expect(facilitator.received('V0JobStatusUpdate')).toHaveLength(0);
    facilitator.authMode = 'verify';
    await link.whenAuthenticated();
    await facilitator.waitFor(() => store.pendingCount() === 0, 'the outbox to drain');
    expect(facilitator.statuses('job-x')).toEqual(['received']);
  });

  it('closes the connection itself when refused without a close, and retries', async () => {
    facilitator.authMode = 'refuse_open';
    const link = startLink(openStore());
    await facilitator.waitFor(() => facilitator.totalConnections >= 2, 'a second attempt');
    await facilitator.waitFor(() => facilitator.connectionCount <= 1, 'the refused socket to be closed by the validator');
    facilitator.authMode = 'verify';
    await link.whenAuthenticated();
  });

  it('gives up on a silent facilitator after the auth timeout and retries', async () => {
    facilitator.authMode = 'silent';
    const link = startLink(openStore(), { authTimeoutMs: 150 });
    await facilitator.waitFor(() => facilitator.totalConnections >= 2, 'a retry after the auth timeout');
    facilitator.authMode = 'verify';
    await link.whenAuthenticated();
  });

  it('hands pushed jobs and cheated reports to its callbacks, signature intact', async () => {
    const jobs: V2JobRequest[] = [];
    const cheats: V0JobCheated[] = [];
    const link = startLink(openStore(), { onJob: (r) => jobs.push(r), onCheated: (m) => cheats.push(m) });
    await link.whenAuthenticated();
    const request = signedJobRequest({ user: devHotkey('link-user') });
    expect(facilitator.pushJob(request)).toBe(1);
    facilitator.pushCheated({
      message_type: 'V0JobCheated',
      type: 'job.cheated',
      job_uuid: request.uuid,
      trusted_job_uuid: 'trusted',
      details: { why: 'different output' },
      signature: null,
    });
    await facilitator.waitFor(() => jobs.length === 1 && cheats.length === 1, 'both messages');
    expect(jobs[0]).toEqual(request);
    expect(cheats[0]!.details).toEqual({ why: 'different output' });
  });

  it('rejects whenAuthenticated when stopped first, and stop leaves pending rows in the store', async () => {
    await facilitator.stop();
    const store = openStore();
    const link = startLink(store);
    reportFlow(store, link, 'job-z', ['received']);
    const waiting = link.whenAuthenticated();
    await link.stop();
    await expect(waiting).rejects.toThrow(/stopped/);
    expect(store.pendingCount()).toBe(1);
  });
});
