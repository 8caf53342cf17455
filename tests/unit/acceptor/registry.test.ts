import { createActor, createMachine } from 'xstate';
import type { ConnectionHandle } from '../../../src/transport/acceptor/connection.types';
import { ConnectionRegistry } from '../../../src/transport/acceptor/registry';

const handle = () => createActor(createMachine({})) as unknown as ConnectionHandle;

describe('connection registry', () => {
  it('tracks connections by id, route and authenticated identity, and forgets closed ones', () => {
    const registry = new ConnectionRegistry();
    registry.opened('validator-1', 'validator', handle());
    registry.opened('validator-2', 'validator', handle());
    registry.opened('executor-3', 'executor', handle());
    registry.authenticated('validator-1', 'hk-a');
    registry.authenticated('validator-2', 'hk-a');
    registry.authenticated('executor-3', 'token-x');
    expect(registry.byIdentity('hk-a').map((e) => e.connectionId)).toEqual(['validator-1', 'validator-2']);
    expect(registry.byRoute('executor').map((e) => e.identity)).toEqual(['token-x']);
    registry.closed('validator-1');
    expect(registry.byIdentity('hk-a').map((e) => e.connectionId)).toEqual(['validator-2']);
    expect(registry.size).toBe(2);
  });

  it('ignores authentication and close of connections it never saw, and a second identity', () => {
    const registry = new ConnectionRegistry();
    registry.authenticated('ghost', 'x');
    registry.closed('ghost');
    expect(registry.store.getSnapshot().context).toEqual({ version: 0, size: 0, authenticated: 0 });
    registry.opened('a-1', 'a', handle());
    registry.authenticated('a-1', 'first');
    registry.authenticated('a-1', 'second');
    expect(registry.get('a-1')?.identity).toBe('first');
    expect(registry.byIdentity('second')).toEqual([]);
  });

  it('publishes a summary to store subscribers on every change', () => {
    const registry = new ConnectionRegistry();
    const seen: Array<[number, number]> = [];
    const sub = registry.store.subscribe(({ context }) => seen.push([context.size, context.authenticated]));
    registry.opened('a-1', 'a', handle());
    registry.authenticated('a-1', 'hk');
    registry.opened('a-2', 'a', handle());
    registry.closed('a-1');
    sub.unsubscribe();
    expect(seen).toEqual([
      [1, 0],
      [1, 1],
      [2, 1],
      [1, 0],
    ]);
    expect(registry.store.getSnapshot().context.version).toBe(4);
  });
});
