/**
 * The executor run's resource ledger (src/actors/executor/jobResources.ts): cleanup waits for effects the machine
 * abandoned, because a stopped promise actor's work keeps running.
 */
import { JobResources } from '../../src/actors/executor/jobResources';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('JobResources', () => {
  it('settles once every tracked effect settled, rejected ones included', async () => {
    const resources = new JobResources();
    const a = deferred<number>();
    const b = deferred<number>();
    void resources.track(a.promise);
    resources.track(b.promise).catch(() => undefined);
    expect(resources.pending).toBe(2);
    const settled = resources.settle(10_000);
    a.resolve(1);
    b.reject(new Error('aborted'));
    await expect(settled).resolves.toBe(true);
    expect(resources.pending).toBe(0);
  });

  it('waits for an effect tracked while it was already waiting', async () => {
    const resources = new JobResources();
    const first = deferred<void>();
    const second = deferred<void>();
    void resources.track(first.promise);
    const settled = resources.settle(10_000);
    void resources.track(second.promise);
    first.resolve();
    await Promise.resolve();
    let done = false;
    void settled.then(() => (done = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    second.resolve();
    await expect(settled).resolves.toBe(true);
  });

  it('gives up after the timeout and says so', async () => {
    jest.useFakeTimers();
    try {
      const resources = new JobResources();
      void resources.track(new Promise<never>(() => undefined));
      const settled = resources.settle(1_000);
      jest.advanceTimersByTime(1_000);
      await expect(settled).resolves.toBe(false);
    } finally {
      jest.useRealTimers();
    }
  });

  it('returns the tracked promise unchanged', async () => {
    const resources = new JobResources();
    await expect(resources.track(Promise.resolve(42))).resolves.toBe(42);
    await expect(resources.track(Promise.reject(new Error('x')))).rejects.toThrow('x');
  });

  it('remembers temp dirs until they are removed', () => {
    const resources = new JobResources();
    resources.addWorkspace('/tmp/a');
    resources.addWorkspace('/tmp/a');
    expect(resources.workspaces).toEqual(['/tmp/a']);
    resources.forgetWorkspace('/tmp/a');
    expect(resources.workspaces).toEqual([]);
  });
});
