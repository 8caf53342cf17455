import { livenessOf, readinessOf, type InspectableSnapshot } from '../../../src/telemetry/health';
import { HordeError } from '../../../src/util/errors';

function snap(status: InspectableSnapshot['status'], tags: string[] = [], extra: object = {}): InspectableSnapshot {
  const snapshot: Record<string, unknown> = {
    status,
    output: undefined,
    error: undefined,
    value: 'serving',
    hasTag: (t: string) => tags.includes(t),
    ...extra,
  };
  return snapshot as unknown as InspectableSnapshot;
}

describe('liveness', () => {
  it.each([
    ['active', 'ok'],
    ['done', 'ok'],
    ['error', 'unavailable'],
    ['stopped', 'unavailable'],
  ] as const)('a root in status %s is %s', (status, expected) => {
    expect(livenessOf(snap(status)).status).toBe(expected);
  });

  it('is unavailable without a root actor', () => {
    expect(livenessOf(undefined)).toEqual({ status: 'unavailable', actor: 'missing', state: null });
  });

  it("reports the root's error code", () => {
    const report = livenessOf(snap('error', [], { error: new HordeError('miner.bind_failed', 'x') }));
    expect(report).toEqual({ status: 'unavailable', actor: 'error', state: 'serving', error: 'miner.bind_failed' });
  });
});

describe('readiness', () => {
  it.each([
    ['active', ['ready'], 'ok'],
    ['active', [], 'unavailable'],
    ['done', ['ready'], 'unavailable'],
    ['error', ['ready'], 'unavailable'],
    ['stopped', ['ready'], 'unavailable'],
  ] as const)('a root in status %s with tags %j is %s', (status, tags, expected) => {
    expect(readinessOf(snap(status, [...tags])).status).toBe(expected);
  });

  it("follows the role's readiness rule and shows its reason", () => {
    const report = readinessOf(snap('active', ['ready']), () => ({ ready: false, reason: 'no executors' }));
    expect(report).toEqual({ status: 'unavailable', actor: 'active', state: 'serving', reason: 'no executors' });
  });

  it('treats a snapshot without tags (non-machine logic) as not ready by default', () => {
    const { hasTag: _unused, ...plain } = snap('active');
    expect(readinessOf(plain as InspectableSnapshot).status).toBe('unavailable');
  });
});
