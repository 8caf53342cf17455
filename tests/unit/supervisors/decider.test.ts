import {
  composeDeciders,
  decide,
  deciderFromCodes,
  defaultDirective,
  exitCode,
  NORMAL_EXIT_CODE,
} from '../../../src/supervisors/decider';
import type { Decider, Directive, RestartType } from '../../../src/supervisors/policy';
import { HordeError } from '../../../src/util/errors';

const poolFull = new HordeError('pool.full', 'no executor free');
const configInvalid = new HordeError('config.invalid', 'bad config');

describe('defaultDirective', () => {
  it.each<[RestartType, 'normal' | 'error', Directive]>([
    ['permanent', 'normal', 'restart'],
    ['permanent', 'error', 'restart'],
    ['transient', 'normal', 'stop'],
    ['transient', 'error', 'restart'],
    ['temporary', 'normal', 'stop'],
    ['temporary', 'error', 'stop'],
  ])('a %s child after a %s exit: %s', (restart, exit, directive) => {
    expect(defaultDirective(restart, exit)).toBe(directive);
  });
});

describe('decide', () => {
  const table = deciderFromCodes({ 'pool.full': 'resume', 'config.invalid': 'escalate', 'job.cancelled': 'stop' });

  it.each<[string, RestartType, unknown, Directive]>([
    ['uses the decider for a known code', 'permanent', poolFull, 'resume'],
    ['escalates what the decider escalates', 'transient', configInvalid, 'escalate'],
    ['falls back to the restart type for an unknown code', 'transient', new Error('x'), 'restart'],
    ['never brings a temporary child back, even when the decider says resume', 'temporary', poolFull, 'stop'],
    ['still escalates for a temporary child', 'temporary', configInvalid, 'escalate'],
  ])('%s', (_name, restart, error, directive) => {
    expect(decide(table, restart, { kind: 'error', error }).directive).toBe(directive);
  });

  it('never asks the decider about a normal completion', () => {
    const decider = jest.fn<ReturnType<Decider>, Parameters<Decider>>(() => 'escalate');
    expect(decide(decider, 'transient', { kind: 'normal' }).directive).toBe('stop');
    expect(decide(decider, 'permanent', { kind: 'normal' }).directive).toBe('restart');
    expect(decider).not.toHaveBeenCalled();
  });

  it('escalates with the thrown error when the decider itself throws', () => {
    const bug = new TypeError('decider bug');
    const result = decide(
      () => {
        throw bug;
      },
      'permanent',
      { kind: 'error', error: poolFull },
    );
    expect(result).toEqual({ directive: 'escalate', deciderError: bug });
  });
});

describe('deciderFromCodes', () => {
  it('maps errorCode(error), including Node system error codes', () => {
    const decider = deciderFromCodes({ ECONNRESET: 'restart', 'pool.full': 'resume' });
    expect(decider(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('restart');
    expect(decider(poolFull)).toBe('resume');
    expect(decider('a thrown string')).toBeUndefined();
  });

  it('hands unknown codes to its fallback', () => {
    const decider = deciderFromCodes({ 'pool.full': 'resume' }, () => 'stop');
    expect(decider(poolFull)).toBe('resume');
    expect(decider(configInvalid)).toBe('stop');
  });

  it('does not answer for codes inherited from Object.prototype', () => {
    expect(deciderFromCodes({})(Object.assign(new Error('x'), { code: 'toString' }))).toBeUndefined();
  });
});

describe('composeDeciders', () => {
  it('takes the first answer and leaves the rest to the restart type', () => {
    const decider = composeDeciders(deciderFromCodes({ 'pool.full': 'resume' }), (error) =>
      error instanceof TypeError ? 'escalate' : undefined,
    );
    expect(decider(poolFull)).toBe('resume');
    expect(decider(new TypeError('bug'))).toBe('escalate');
    expect(decider(new Error('other'))).toBeUndefined();
  });
});

describe('exitCode', () => {
  it('reports normal completions as normal and errors by their code', () => {
    expect(exitCode({ kind: 'normal' })).toBe(NORMAL_EXIT_CODE);
    expect(exitCode({ kind: 'error', error: poolFull })).toBe('pool.full');
    expect(exitCode({ kind: 'error', error: new Error('plain') })).toBe('unknown');
  });
});
