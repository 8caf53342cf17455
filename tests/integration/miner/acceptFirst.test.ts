/**
 * A reserved job is accepted before its job actor starts (the actor starts once the burst has been answered): a real
 * `horde miner` process (`--executor-backend noop`, so no executor ever connects) and a scripted validator that sends
 * its messages back to back, without waiting for answers.
 */
import { join } from 'node:path';
import { devHotkey, initCrypto, type Hotkey } from '../../../src/crypto';
import { ScriptedValidator, type Json } from '../../support/scriptedValidator';
import { metagraphFile, removeDir, startMinerProcess, type MinerProcess } from './minerProcess';

const INLINE_VOLUME = { volume_type: 'inline', contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: null };

let validatorKey: Hotkey;
let minerKey: Hotkey;
let files: { dir: string; path: string };
let miner: MinerProcess;
const validators: ScriptedValidator[] = [];

beforeAll(async () => {
  await initCrypto();
  validatorKey = devHotkey('validator');
  minerKey = devHotkey('miner');
  files = metagraphFile([{ hotkey: validatorKey.ss58 }]);
  miner = await startMinerProcess({
    devKey: 'miner',
    metagraphPath: files.path,
    dataDir: join(files.dir, 'data'),
    hordeId: `it-accept-first-${process.pid}`,
    args: ['--executor-backend', 'noop', '--drain-grace-ms', '500', '--manifest', '{"always_on.test": 2, "always_on.cpu.8c.16gb": 1}'],
  });
});

afterEach(() => {
  for (const v of validators.splice(0)) v.terminate();
});

afterAll(async () => {
  expect(await miner.stop('SIGTERM')).toBe(0);
  removeDir(files.dir);
});

async function authenticated(): Promise<ScriptedValidator> {
  const { validator } = await ScriptedValidator.authenticated({ minerUrl: miner.wsUrl, validator: validatorKey, minerHotkey: minerKey.ss58 });
  validators.push(validator);
  return validator;
}

/**
 * Runs `sending` with every message it sends held back and given a volume (the scripted validator's helpers send
 * none); returns what `sending` returned and a function that sends the held messages at once (signing takes
 * milliseconds each: signed one by one they would reach the miner in separate reads).
 */
function heldWithVolume<T>(v: ScriptedValidator, sending: () => T): { result: T; flush: () => void } {
  const send = v.send.bind(v);
  const held: Json[] = [];
  v.send = (message) => void held.push({ ...(message as Json), volume: INLINE_VOLUME });
  try {
    return { result: sending(), flush: () => held.forEach(send) };
  } finally {
    v.send = send;
  }
}

describe('horde miner: accept first, start the job after', () => {
  it('hands a job request sent right behind its initial request to the job, whose actor started after the accept', async () => {
    const v = await authenticated();
    const { result: jobs, flush } = heldWithVolume(v, () => {
      const uuids = [v.sendInitialJob().jobUuid, v.sendInitialJob().jobUuid];
      for (const jobUuid of uuids) v.sendJobRequest(jobUuid, ['true']);
      return uuids;
    });
    // The job requests go back to back with their initial requests: they reach the miner before the jobs' actors
    // exist, and must reach the jobs (a volume sent twice is refused by the job itself: the GenericError proves it).
    flush();
    for (const jobUuid of jobs) {
      expect(await v.nextOfType('V0AcceptJobRequest', { jobUuid })).toEqual({ message_type: 'V0AcceptJobRequest', job_uuid: jobUuid });
    }
    for (const jobUuid of jobs) {
      const refusal = await v.nextOfType('GenericError');
      expect(refusal).toEqual({ message_type: 'GenericError', details: `Received job volume twice job_uuid: ${jobUuid}` });
    }
  });

  it('declines busy once the slots are taken, with the receipts of the jobs it just accepted as excuses', async () => {
    const v = await authenticated();
    // A class of one slot: the second request, right behind the first, finds it taken.
    const executorClass = 'always_on.cpu.8c.16gb';
    const accepted = v.sendInitialJob({ executorClass, ttlS: 120 }).jobUuid;
    const declined = v.sendInitialJob({ executorClass, ttlS: 120 }).jobUuid;
    expect(await v.nextOfType('V0AcceptJobRequest')).toMatchObject({ job_uuid: accepted });
    const decline = await v.nextOfType('V0DeclineJobRequest', { timeoutMs: 15_000 });
    expect(decline).toMatchObject({ job_uuid: declined, reason: 'busy' });
    const excuses = (decline['receipts'] as Json[]).map((r) => (r['payload'] as Json)['job_uuid']);
    expect(excuses).toContain(accepted);
    expect(excuses).not.toContain(declined);
  });
});
