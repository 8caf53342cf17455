import { createActor, fromPromise } from 'xstate';
import { watchRootFailure } from '../../../src/supervisors/rootFailure';
import { createLogger } from '../../../src/telemetry/logger';
import { HordeError } from '../../../src/util/errors';

class RootDown extends HordeError {
  constructor() {
    super('test.root_down', 'the root gave up');
  }
}

describe('watchRootFailure', () => {
  it('logs a failed root with its code and calls onFatal with the error', async () => {
    const lines: string[] = [];
    const fatal: unknown[] = [];
    const root = createActor(fromPromise(() => Promise.reject(new RootDown())));
    watchRootFailure(root, { role: 'miner', logger: createLogger({ component: 'test', level: 'info', sink: (line) => lines.push(line) }), onFatal: (error) => fatal.push(error) });
    root.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toBeInstanceOf(RootDown);
    expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      expect.objectContaining({ level: 'error', msg: 'miner root actor failed', code: 'test.root_down', error: 'the root gave up' }),
    ]);
  });

  it('says nothing while the root runs or when it stops normally', async () => {
    const lines: string[] = [];
    const fatal: unknown[] = [];
    const root = createActor(fromPromise(() => Promise.resolve(1)));
    watchRootFailure(root, { role: 'validator', logger: createLogger({ component: 'test', level: 'info', sink: (line) => lines.push(line) }), onFatal: (error) => fatal.push(error) });
    root.start();
    await new Promise((resolve) => setImmediate(resolve));
    expect(fatal).toEqual([]);
    expect(lines).toEqual([]);
  });
});
