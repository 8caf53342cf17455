/**
 * The startup sweep's decision (src/actors/executor/staleContainers.ts): a starting executor removes only job
 * containers that are provably abandoned, never a sibling executor's running job.
 */
import { staleVerdict, type ContainerSummary, type SweepingExecutor } from '../../src/actors/executor/staleContainers';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;
const self: SweepingExecutor = {
  hostName: 'host-a',
  token: 'own-token',
  nowMs: NOW,
  maxAgeMs: 65 * 60_000,
  isPidAlive: (pid) => pid === 100,
};

function container(state: string, labels: Record<string, string>, ageMs = 60_000): ContainerSummary {
  return { id: 'c1', state, createdAtMs: NOW - ageMs, labels: { 'horde.managed': 'true', 'horde.id': 'h', ...labels } };
}

describe('staleVerdict', () => {
  it.each<[string, ContainerSummary, ReturnType<typeof staleVerdict>]>([
    ['keeps our own container', container('running', { 'horde.token': 'own-token' }), { stale: false, why: 'own' }],
    [
      'keeps a running job of a live executor on this host',
      container('running', { 'horde.token': 't2', 'horde.executor_host': 'host-a', 'horde.executor_pid': '100' }),
      { stale: false, why: 'owner_alive' },
    ],
    [
      'keeps an exited job of a live executor (its owner removes it)',
      container('exited', { 'horde.token': 't2', 'horde.executor_host': 'host-a', 'horde.executor_pid': '100' }),
      { stale: false, why: 'owner_alive' },
    ],
    [
      'keeps a live executor’s old container too',
      container('running', { 'horde.token': 't2', 'horde.executor_host': 'host-a', 'horde.executor_pid': '100' }, 5 * HOUR),
      { stale: false, why: 'owner_alive' },
    ],
    [
      'removes a running job whose executor on this host is gone',
      container('running', { 'horde.token': 't3', 'horde.executor_host': 'host-a', 'horde.executor_pid': '200' }),
      { stale: true, why: 'owner_dead' },
    ],
    [
      'removes a created-but-never-started container of a dead executor',
      container('created', { 'horde.token': 't3', 'horde.executor_host': 'host-a', 'horde.executor_pid': '200' }),
      { stale: true, why: 'owner_dead' },
    ],
    [
      'keeps a young running job of an executor on another host',
      container('running', { 'horde.token': 't4', 'horde.executor_host': 'host-b', 'horde.executor_pid': '200' }),
      { stale: false, why: 'owner_unknown' },
    ],
    [
      'removes a stopped job of an executor it cannot check',
      container('exited', { 'horde.token': 't4', 'horde.executor_host': 'host-b', 'horde.executor_pid': '200' }),
      { stale: true, why: 'stopped' },
    ],
    ['removes a dead container without owner labels', container('dead', { 'horde.token': 't5' }), { stale: true, why: 'stopped' }],
    [
      'removes a running job older than any job can be',
      container('running', { 'horde.token': 't6', 'horde.executor_host': 'host-b' }, 2 * HOUR),
      { stale: true, why: 'too_old' },
    ],
    ['keeps a young running job without owner labels', container('running', { 'horde.token': 't7' }), { stale: false, why: 'owner_unknown' }],
    [
      'ignores a malformed pid label',
      container('running', { 'horde.token': 't8', 'horde.executor_host': 'host-a', 'horde.executor_pid': 'abc' }),
      { stale: false, why: 'owner_unknown' },
    ],
  ])('%s', (_name, input, expected) => {
    expect(staleVerdict(input, self)).toEqual(expected);
  });
});
