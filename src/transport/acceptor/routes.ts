/**
 * Path patterns of the acceptor's routes: literal segments and `:name` parameters, e.g.
 * `/v0.1/validator_interface/:validator_hotkey`. Pure functions, no IO.
 */

type Segment = { readonly literal: string } | { readonly param: string };

/** A pattern split once into segments, so matching a request is a loop over strings. */
export interface CompiledPattern {
  readonly pattern: string;
  readonly segments: readonly Segment[];
}

/** Path parameters by name, URL-decoded. */
export type PathParams = Readonly<Record<string, string>>;

/**
 * Splits `/a/b/` into `['a', 'b']`: one trailing slash is ignored, so `/ws/v0/` and `/ws/v0` are the same route
 * (upstream peers use both spellings).
 */
function splitPath(path: string): string[] {
  const trimmed = path.endsWith('/') && path.length > 1 ? path.slice(0, -1) : path;
  return trimmed.split('/').slice(1);
}

/** Problems with a pattern (empty list when valid). */
export function patternProblems(pattern: string): string[] {
  const problems: string[] = [];
  if (!pattern.startsWith('/')) problems.push(`pattern "${pattern}" must start with "/"`);
  const seen = new Set<string>();
  for (const segment of splitPath(pattern)) {
    if (segment === '' && pattern !== '/') problems.push(`pattern "${pattern}" has an empty segment`);
    if (segment.startsWith(':')) {
      const name = segment.slice(1);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`pattern "${pattern}" has a bad parameter "${segment}"`);
      if (seen.has(name)) problems.push(`pattern "${pattern}" repeats parameter "${name}"`);
      seen.add(name);
    }
  }
  return problems;
}

/** Compiles a pattern that {@link patternProblems} accepted. */
export function compilePattern(pattern: string): CompiledPattern {
  const segments = splitPath(pattern)
    .filter((s) => s !== '')
    .map((s): Segment => (s.startsWith(':') ? { param: s.slice(1) } : { literal: s }));
  return { pattern, segments };
}

/** The path of a request target without its query string or fragment (`/a/b?x=1` → `/a/b`). */
export function pathnameOf(requestTarget: string): string {
  const end = requestTarget.search(/[?#]/);
  return end < 0 ? requestTarget : requestTarget.slice(0, end);
}

/**
 * Matches a pathname against a compiled pattern. Returns the decoded parameters, or `undefined` when it does not
 * match: another segment count or literal, an empty parameter, or a parameter that is not valid percent-encoding.
 *
 * @example
 * ```ts
 * const p = compilePattern('/v0.1/validator_interface/:validator_hotkey');
 * matchPattern(p, '/v0.1/validator_interface/5F3s'); // { validator_hotkey: '5F3s' }
 * matchPattern(p, '/v0.1/validator_interface/');     // undefined
 * ```
 */
export function matchPattern(compiled: CompiledPattern, pathname: string): PathParams | undefined {
  const parts = pathname === '/' ? [] : splitPath(pathname);
  if (parts.length !== compiled.segments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const segment = compiled.segments[i]!;
    const part = parts[i]!;
    if ('literal' in segment) {
      if (segment.literal !== part) return undefined;
      continue;
    }
    if (part === '') return undefined;
    try {
      params[segment.param] = decodeURIComponent(part);
    } catch {
      return undefined; // malformed %-encoding: not a path any route serves
    }
  }
  return params;
}

/** The first route whose pattern matches, with its parameters. */
export function findRoute<R extends { readonly compiled: CompiledPattern }>(
  routes: readonly R[],
  pathname: string,
): { route: R; params: PathParams } | undefined {
  for (const route of routes) {
    const params = matchPattern(route.compiled, pathname);
    if (params !== undefined) return { route, params };
  }
  return undefined;
}
