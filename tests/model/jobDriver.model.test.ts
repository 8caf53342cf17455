/**
 * Model-based test of the job driver: fast-check generates sequences of what the world can do to an executor
 * (miner messages in any order, duplicates, effects succeeding or failing, time passing, the link dropping or dying,
 * SIGTERM), drives the real machine through them on a SimulatedClock, lets it run to the end, and checks the
 * properties the executor promises whatever happened:
 * - it ends, with exactly one final message (of the type its outcome says), and nothing but GenericError after it;
 * - cleanup ran exactly once, and every effect it abandoned was aborted;
 * - the stage messages it sent are a prefix of upstream's order, each at most once.
 */
import fc from 'fast-check';
import { ExecutionTimeoutError, ImagePullError, UploadFailedError, VolumeBadZipError } from '../../src/actors/executor/errors';
import { driverHarness, EFFECT_NAMES, type DriverHarness, type EffectName } from '../support/jobDriverHarness';
import { initialJobRequest, jobRequest } from '../support/scriptedMiner';

const JOB = '7d3c5b7e-2f4a-4c1e-9b8d-1a2b3c4d5e6f';
const IMAGE = 'img:1';
const STAGE_ORDER: string[] = ['V0ExecutorReadyRequest', 'V0VolumesReadyRequest', 'V0ExecutionDoneRequest', 'V0MachineSpecsRequest'];
const FINAL_FOR = { completed: 'V0JobFinishedRequest', job_failed: 'V0JobFailedRequest', horde_failed: 'V0HordeFailedRequest' } as const;

type Command =
  | { kind: 'initial'; variant: 'normal' | 'streaming' | 'no_timing' | 'with_volume' }
  | { kind: 'job'; withVolume: boolean }
  | { kind: 'generic_error' }
  | { kind: 'settle'; effect: EffectName; outcome: 'ok' | 'nonzero' | 'fail' }
  | { kind: 'advance'; ms: number }
  | { kind: 'link_lost' }
  | { kind: 'link_gone' }
  | { kind: 'stop' };

const MANUAL: EffectName[] = EFFECT_NAMES.filter((name) => name !== 'collectSpecs');

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('initial' as const), variant: fc.constantFrom('normal', 'normal', 'streaming', 'no_timing', 'with_volume') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('job' as const), withVolume: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'generic_error' as const }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      effect: fc.constantFrom(...MANUAL),
      outcome: fc.constantFrom('ok', 'ok', 'ok', 'nonzero', 'fail'),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(100, 1_000, 4_000, 12_000, 40_000) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'link_lost' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'link_gone' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'stop' as const }) },
);

const ERRORS: Record<EffectName, () => Error> = {
  collectSpecs: () => new Error('no specs'),
  prepareWorkspace: () => Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }),
  removeStaleContainers: () => new Error('engine down'),
  ensureImage: () => new ImagePullError(IMAGE, 'manifest unknown', []),
  downloadVolume: () => new VolumeBadZipError('bad'),
  runJob: () => new ExecutionTimeoutError(1, { stdout: 'o', stderr: 'e', truncated: { stdout: false, stderr: false } }),
  finishOutputs: () => new UploadFailedError('http://x/up', 'HTTP 500', 3, 500),
  cleanup: () => new Error('rm failed'),
};

function okValue(effect: EffectName, nonzero: boolean): unknown {
  switch (effect) {
    case 'runJob':
      return { exitCode: nonzero ? 2 : 0, stdout: 'o', stderr: 'e' };
    case 'cleanup':
      return { containersRemoved: 0, tempDir: 'removed', problems: [] };
    case 'prepareWorkspace':
      return { root: '/w', volumeDir: '/w/v', outputDir: '/w/o', artifactsDir: '/w/a', specsDir: '/w/s', logsDir: '/w/l', stdoutPath: '/w/l/1', stderrPath: '/w/l/2' };
    case 'ensureImage':
      return { image: IMAGE, pulled: false };
    case 'removeStaleContainers':
      return { removed: 0 };
    case 'downloadVolume':
      return { files: 1 };
    case 'finishOutputs':
      return { artifacts: {}, uploadResults: {} };
    case 'collectSpecs':
      return { specs: {} };
  }
}

const VOLUME = { volume_type: 'inline' as const, contents: 'UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==', relative_path: null };

/** Pending calls of manual effects (not yet answered, not aborted). */
function pendingCalls(h: DriverHarness) {
  return h.calls.filter((c) => !answered.has(c) && !c.signal.aborted && MANUAL.includes(c.name));
}
const answered = new WeakSet<object>();

async function apply(h: DriverHarness, cmd: Command): Promise<void> {
  switch (cmd.kind) {
    case 'initial':
      h.deliver(
        initialJobRequest({
          jobUuid: JOB,
          image: IMAGE,
          streaming: cmd.variant === 'streaming',
          ...(cmd.variant === 'no_timing' ? { timing: null } : {}),
          ...(cmd.variant === 'with_volume' ? { volume: VOLUME } : {}),
        }),
      );
      break;
    case 'job':
      h.deliver(jobRequest({ jobUuid: JOB, image: IMAGE, ...(cmd.withVolume ? { volume: VOLUME } : {}) }));
      break;
    case 'generic_error':
      h.deliver({ message_type: 'GenericError', details: 'x' });
      break;
    case 'settle': {
      const call = pendingCalls(h).find((c) => c.name === cmd.effect);
      if (call === undefined) break;
      answered.add(call);
      if (cmd.outcome === 'fail') call.reject(ERRORS[cmd.effect]());
      else call.resolve(okValue(cmd.effect, cmd.outcome === 'nonzero'));
      break;
    }
    case 'advance':
      h.clock.increment(cmd.ms);
      break;
    case 'link_lost':
      h.actor.send({ type: 'job.miner.link_lost', code: 1006, reason: '' });
      break;
    case 'link_gone':
      h.actor.send({ type: 'job.miner.link_gone', reason: 'gave up' });
      break;
    case 'stop':
      h.actor.send({ type: 'job.stop', reason: 'SIGTERM' });
      break;
  }
  await h.flush();
}

/** Lets the world behave from now on: effects succeed, time passes, the miner sends what is missing. */
async function runToEnd(h: DriverHarness): Promise<void> {
  for (let round = 0; round < 40 && h.status() === 'active'; round++) {
    for (const call of pendingCalls(h)) {
      answered.add(call);
      call.resolve(okValue(call.name, false));
    }
    await h.flush();
    h.clock.increment(60_000);
    await h.flush();
  }
}

describe('job driver model', () => {
  it('always ends with exactly one final message, one cleanup, and nothing left running', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 25 }), async (commands) => {
        const h = driverHarness({ jobUuidHint: JOB, effects: Object.fromEntries(MANUAL.map((name) => [name, 'manual'])) });
        h.start();
        try {
          for (const cmd of commands) await apply(h, cmd);
          await runToEnd(h);

          expect(h.status()).toBe('done');
          const output = h.output()!;
          const finals = h.finals();
          expect(finals).toHaveLength(1);
          expect(finals[0]!.message.message_type).toBe(FINAL_FOR[output.outcome]);
          expect(output.finalMessageSent).toBe(true);

          const types: string[] = h.types();
          const finalAt = types.indexOf(finals[0]!.message.message_type);
          expect(types.slice(finalAt + 1).every((t) => t === 'GenericError')).toBe(true);
          const stageMessages = types.filter((t) => STAGE_ORDER.includes(t));
          expect(stageMessages).toEqual(STAGE_ORDER.slice(0, stageMessages.length).filter((t) => stageMessages.includes(t)));
          expect(new Set(stageMessages).size).toBe(stageMessages.length);
          if (output.outcome === 'completed') expect(stageMessages.slice(0, 3)).toEqual(STAGE_ORDER.slice(0, 3));

          expect(h.callsOf('cleanup')).toHaveLength(1);
          for (const call of h.calls) {
            if (call.name === 'collectSpecs') continue;
            expect(answered.has(call) || call.signal.aborted).toBe(true);
          }
        } finally {
          h.actor.stop();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never starts the container before the volumes are ready, nor uploads before it exited cleanly', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 25 }), async (commands) => {
        const h = driverHarness({ jobUuidHint: JOB, effects: Object.fromEntries(MANUAL.map((name) => [name, 'manual'])) });
        h.start();
        try {
          for (const cmd of commands) await apply(h, cmd);
          await runToEnd(h);
          const order = h.calls.map((c) => c.name);
          const types = h.types();
          if (order.includes('runJob')) expect(types).toContain('V0VolumesReadyRequest');
          if (order.includes('finishOutputs')) expect(types).toContain('V0ExecutionDoneRequest');
          if (types.includes('V0ExecutionDoneRequest')) expect(types.indexOf('V0ExecutionDoneRequest')).toBeGreaterThan(types.indexOf('V0VolumesReadyRequest'));
          expect(order.filter((n) => n === 'runJob').length).toBeLessThanOrEqual(1);
        } finally {
          h.actor.stop();
        }
      }),
      { numRuns: 150 },
    );
  });
});
