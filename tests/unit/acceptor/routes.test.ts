import { compilePattern, findRoute, matchPattern, pathnameOf, patternProblems } from '../../../src/transport/acceptor/routes';

describe('route patterns', () => {
  const validator = compilePattern('/v0.1/validator_interface/:validator_hotkey');
  const facilitator = compilePattern('/ws/v0/');

  it.each([
    ['/v0.1/validator_interface/5F3s', { validator_hotkey: '5F3s' }],
    ['/v0.1/validator_interface/5F3s/', { validator_hotkey: '5F3s' }],
    ['/v0.1/validator_interface/a%20b', { validator_hotkey: 'a b' }],
    ['/v0.1/validator_interface/', undefined],
    ['/v0.1/validator_interface', undefined],
    ['/v0.1/validator_interface/a/b', undefined],
    ['/v0.2/validator_interface/a', undefined],
    ['/v0.1/validator_interface/%E0%A4%A', undefined],
  ])('matches %s against the validator pattern → %j', (path, params) => {
    expect(matchPattern(validator, path)).toEqual(params);
  });

  it('matches a literal pattern with or without its trailing slash', () => {
    expect(matchPattern(facilitator, '/ws/v0/')).toEqual({});
    expect(matchPattern(facilitator, '/ws/v0')).toEqual({});
    expect(matchPattern(facilitator, '/ws/v1/')).toBeUndefined();
  });

  it('strips the query string and fragment from a request target', () => {
    expect(pathnameOf('/ws/v0/?token=1')).toBe('/ws/v0/');
    expect(pathnameOf('/a#b')).toBe('/a');
    expect(pathnameOf('/a')).toBe('/a');
  });

  it('picks the first route that matches', () => {
    const routes = [
      { name: 'exact', compiled: compilePattern('/x/special') },
      { name: 'param', compiled: compilePattern('/x/:id') },
    ];
    expect(findRoute(routes, '/x/special')?.route.name).toBe('exact');
    expect(findRoute(routes, '/x/other')).toEqual({ route: routes[1], params: { id: 'other' } });
    expect(findRoute(routes, '/y')).toBeUndefined();
  });

  it.each([
    ['/ok/:name', []],
    ['relative', ['must start with "/"']],
    ['/a//b', ['has an empty segment']],
    ['/a/:1bad', ['has a bad parameter ":1bad"']],
    ['/a/:p/:p', ['repeats parameter "p"']],
  ])('validates the pattern %s', (pattern, problems) => {
    const found = patternProblems(pattern);
    expect(found).toHaveLength(problems.length);
    problems.forEach((p, i) => expect(found[i]).toContain(p));
  });
});
