import { ConcurrencyQueueFullError, ExecutorAbortedError } from '../../../src/actors/executor/errors';
import { Semaphore } from '../../../src/actors/executor/semaphore';

const never = new AbortController().signal;

describe('Semaphore', () => {
  it('lets capacity holders in at once and queues the rest in arrival order', async () => {
    const slots = new Semaphore('test', 2, 10);
    const releaseA = await slots.acquire(never);
    await slots.acquire(never);
    const order: string[] = [];
    const c = slots.acquire(never).then((release) => {
      order.push('c');
      return release;
    });
    const d = slots.acquire(never).then(() => order.push('d'));
    expect(slots.waiting).toBe(2);
    releaseA();
    const releaseC = await c;
    expect(order).toEqual(['c']);
    releaseC();
    await d;
    expect(order).toEqual(['c', 'd']);
    expect(slots.inUse).toBe(2);
  });

  it('turns callers away with concurrency_queue_full when the wait queue is full', async () => {
    const slots = new Semaphore('test', 1, 1);
    await slots.acquire(never);
    void slots.acquire(never);
    await expect(slots.acquire(never)).rejects.toBeInstanceOf(ConcurrencyQueueFullError);
    expect(slots.rejected).toBe(1);
  });

  it('drops an aborted waiter from the queue without taking a slot', async () => {
    const slots = new Semaphore('test', 1, 5);
    const release = await slots.acquire(never);
    const controller = new AbortController();
    const waiting = slots.acquire(controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(ExecutorAbortedError);
    expect(slots.waiting).toBe(0);
    release();
    expect(slots.inUse).toBe(0);
  });

  it('releases the slot when the work throws', async () => {
    const slots = new Semaphore('test', 1, 5);
    await expect(slots.use(never, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(slots.inUse).toBe(0);
  });
});
