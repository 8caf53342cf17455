import { createActor, SimulatedClock } from 'xstate';
import { transportMachine } from '../../../src/transport/transport.machine';
import { fakeSockets, testCodec } from '../../support/transportFakeSocket';
import { transportMetricsUnderTest } from '../../support/transportMetricsReader';

describe('transport metrics', () => {
  it('counts connects by outcome, reconnects, messages by direction, decode errors, drops and heartbeat misses', async () => {
    const { metrics, value, shutdown } = transportMetricsUnderTest();
    const fake = fakeSockets();
    const clock = new SimulatedClock();
    const actor = createActor(transportMachine.provide({ actors: { socket: fake.logic } }), {
      clock,
      input: {
        url: 'ws://peer.test/',
        codec: testCodec,
        metrics,
        random: () => 0,
        options: { outboxCapacity: 1, connectTimeoutMs: 1000, pingIntervalMs: 100, pongTimeoutMs: 50 },
      },
    }).start();
    fake.current.close(1006, '', new Error('ECONNREFUSED')); // failure
    clock.increment(0);
    clock.increment(1000); // timeout
    actor.send({ type: 'transport.send', message: { n: 1 } });
    actor.send({ type: 'transport.send', message: { n: 2 } }); // drops n=1
    clock.increment(0);
    fake.current.open(); // success, sends n=2
    actor.send({ type: 'transport.send', message: { n: 3 } });
    fake.current.receive('{"n":1}', 'junk');
    clock.increment(100); // ping
    clock.increment(50); // no pong: heartbeat miss
    actor.stop();

    expect(await value('horde_transport_connects', { outcome: 'failure' })).toBe(1);
    expect(await value('horde_transport_connects', { outcome: 'timeout' })).toBe(1);
    expect(await value('horde_transport_connects', { outcome: 'success' })).toBe(1);
    expect(await value('horde_transport_reconnects')).toBe(3);
    expect(await value('horde_transport_outbox_dropped_messages')).toBe(1);
    expect(await value('horde_transport_messages', { direction: 'out' })).toBe(2);
    expect(await value('horde_transport_messages', { direction: 'in' })).toBe(1);
    expect(await value('horde_transport_decode_errors')).toBe(1);
    expect(await value('horde_transport_heartbeat_misses')).toBe(1);
    await shutdown();
  });
});
