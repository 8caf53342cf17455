import { ReliableSessionRegistry, type SessionEvictionReason } from '../../../src/transport/acceptor/reliableSessions';
import { manualClock } from '../../../src/util/clock';

function registry(capacity = 3, ttlMs = 1_000) {
  const clock = manualClock(0);
  const evicted: SessionEvictionReason[] = [];
  const sessions = new ReliableSessionRegistry({ capacity, ttlMs, sendCapacity: 10, clock, onEvict: (r) => evicted.push(r) });
  return { clock, evicted, sessions };
}

describe('reliable session registry', () => {
  it('returns the same session for the same key across reconnects', () => {
    const { sessions } = registry();
    const first = sessions.prepare('/p|s1')!;
    first.receiver.accept(1);
    sessions.attach(first, 'c-1');
    sessions.release(first, 'c-1');
    const again = sessions.prepare('/p|s1')!;
    expect(again).toBe(first);
    expect(again.receiver.lastDelivered).toBe(1);
  });

  it('keeps sessions of the same id on different paths apart', () => {
    const { sessions } = registry();
    expect(sessions.prepare('/v/hotkey-a|s1')).not.toBe(sessions.prepare('/v/hotkey-b|s1'));
  });

  it('forgets a detached session once its TTL has passed, but never a live one', () => {
    const { clock, evicted, sessions } = registry(10, 1_000);
    const detached = sessions.prepare('/p|old')!;
    sessions.attach(detached, 'c-1');
    sessions.release(detached, 'c-1');
    const live = sessions.prepare('/p|live')!;
    sessions.attach(live, 'c-2');
    clock.advance(999);
    sessions.prepare('/p|other');
    expect(sessions.get('/p|old')).toBe(detached);
    clock.advance(1);
    sessions.prepare('/p|other');
    expect(sessions.get('/p|old')).toBeUndefined();
    expect(sessions.get('/p|live')).toBe(live);
    expect(evicted).toEqual(['ttl']);
  });

  it('evicts the least recently used detached session when full, and refuses when every session is live', () => {
    const { evicted, sessions } = registry(2);
    const a = sessions.prepare('/p|a')!;
    sessions.prepare('/p|b');
    sessions.prepare('/p|a'); // a is now the most recent
    sessions.prepare('/p|c');
    expect(sessions.get('/p|b')).toBeUndefined();
    expect(sessions.get('/p|a')).toBe(a);
    expect(evicted).toEqual(['capacity']);

    sessions.attach(a, 'c-a');
    sessions.attach(sessions.get('/p|c')!, 'c-c');
    expect(sessions.prepare('/p|d')).toBeUndefined();
    expect(sessions.size).toBe(2);
  });

  it('reports the connection a newer one supersedes, and ignores a release by the superseded one', () => {
    const { sessions } = registry();
    const s = sessions.prepare('/p|s')!;
    expect(sessions.attach(s, 'c-1')).toBeUndefined();
    expect(sessions.attach(s, 'c-2')).toBe('c-1');
    sessions.release(s, 'c-1');
    expect(s.ownerConnectionId).toBe('c-2');
    sessions.release(s, 'c-2');
    expect(s.ownerConnectionId).toBeUndefined();
  });
});
