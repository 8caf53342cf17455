import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import {
  JsonFloat,
  createExecutorToMinerCodec,
  createFacilitatorToValidatorCodec,
  createMinerToExecutorCodec,
  createMinerToValidatorCodec,
  createValidatorToFacilitatorCodec,
  createValidatorToMinerCodec,
  parseJson,
  pydanticJsonDumps,
  type LinkCodec,
} from '../../../src/protocol';
import { UPSTREAM_FRAMES, type LinkName } from './upstream-frames';

// Small frame limit so that the size check is part of what the fuzzer reaches.
const OPTIONS = { maxFrameBytes: 64 * 1024 };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const CODECS: Record<LinkName, LinkCodec<any, any>> = {
  validatorToMiner: createValidatorToMinerCodec(OPTIONS),
  minerToValidator: createMinerToValidatorCodec(OPTIONS),
  minerToExecutor: createMinerToExecutorCodec(OPTIONS),
  executorToMiner: createExecutorToMinerCodec(OPTIONS),
  facilitatorToValidator: createFacilitatorToValidatorCodec(OPTIONS),
  validatorToFacilitator: createValidatorToFacilitatorCodec(OPTIONS),
};
const LINKS = Object.keys(CODECS) as LinkName[];
const ERROR_CODES = ['frame.too_large', 'frame.malformed_json', 'frame.unknown_message_type', 'frame.invalid_field'];

/**
 * The decoder's contract, checked on any input: no throw; a typed error, or a message that encodes, decodes back
 * to an equal value, and re-encodes to the same text (encoding is a fixed point after one round).
 */
function checkDecode(link: LinkName, text: string): void {
  // plain checks instead of expect(): this runs tens of thousands of times
  const codec = CODECS[link];
  const r = codec.decode(text);
  if (!r.ok) {
    if (!ERROR_CODES.includes(r.error.code) || typeof r.error.message !== 'string') throw new Error(`bad error ${JSON.stringify(r.error)}`);
    if (r.error.code === 'frame.invalid_field' && typeof r.error.path !== 'string') throw new Error('invalid_field without a path');
    return;
  }
  const encoded = codec.encode(r.value);
  const again = codec.decode(encoded);
  if (!again.ok) throw new Error(`re-decode failed: ${again.error.message}\n${encoded}`);
  if (!isDeepStrictEqual(again.value, r.value)) throw new Error(`re-decoded value differs\n${encoded}`);
  const reencoded = codec.encode(again.value);
  if (reencoded !== encoded) throw new Error(`re-encoding differs\n${encoded}\n${reencoded}`);
}

// ---------------------------------------------------------------------------------------------------------------
// mutations of valid frames, on the parsed tree (keeps bigints and floats) and on the text

type Path = Array<string | number>;
type Tree = unknown;

function allPaths(v: Tree, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((item, i) => allPaths(item, [...prefix, i], out));
  else if (typeof v === 'object' && v !== null && !(v instanceof JsonFloat))
    for (const k of Object.keys(v)) allPaths((v as Record<string, Tree>)[k], [...prefix, k], out);
  return out;
}

function parentOf(root: Tree, path: Path): Record<string | number, Tree> | undefined {
  let node = root;
  for (const seg of path.slice(0, -1)) node = (node as Record<string | number, Tree>)[seg];
  return typeof node === 'object' && node !== null ? (node as Record<string | number, Tree>) : undefined;
}

/** Deep copy: generated values are shared between runs (and shrinking), so they must never be mutated in place. */
function cloneTree(v: Tree): Tree {
  if (Array.isArray(v)) return v.map(cloneTree);
  if (typeof v !== 'object' || v === null || v instanceof JsonFloat) return v;
  const out = {};
  for (const k of Object.keys(v)) setOwnProp(out, k, cloneTree((v as Record<string, Tree>)[k]));
  return out;
}

function setOwnProp(target: object, key: string | number, value: Tree): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function nested(depth: number, leaf: Tree, asArray: boolean): Tree {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { n: v };
  return v;
}

const ODD_VALUES: Tree[] = [null, 0, -1, 1.5, new JsonFloat(2), 2n ** 70n, '', 'x', 'é😀', true, false, [], {}, [null], { a: 1 }, '2025-09-01T12:00:00Z', 'unknown', 'always_on.test', 'multi_volume', 'inline', 'JobStartedReceipt'];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'message_type', 'volume_type', 'output_upload_type', 'receipt_type', 'extra', 'error_detail', 'error_type', 'status', 'type'];

type TreeMutation =
  | { kind: 'drop'; pick: number }
  | { kind: 'replace'; pick: number; value: Tree }
  | { kind: 'addKey'; pick: number; key: string; value: Tree }
  | { kind: 'nest'; pick: number; depth: number; asArray: boolean }
  | { kind: 'duplicateItem'; pick: number };

const jsonish: fc.Arbitrary<Tree> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom(...ODD_VALUES)).map(cloneTree);
const treeMutation: fc.Arbitrary<TreeMutation> = fc.oneof(
  fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('replace' as const), pick: fc.nat(), value: jsonish }),
  fc.record({ kind: fc.constant('addKey' as const), pick: fc.nat(), key: fc.oneof(fc.constantFrom(...ODD_KEYS), fc.string()), value: jsonish }),
  // up to a bit past the parser's depth limit (200)
  fc.record({ kind: fc.constant('nest' as const), pick: fc.nat(), depth: fc.integer({ min: 1, max: 230 }), asArray: fc.boolean() }),
  fc.record({ kind: fc.constant('duplicateItem' as const), pick: fc.nat() }),
);

function applyTreeMutation(root: Tree, m: TreeMutation): Tree {
  const paths = allPaths(root);
  const path = paths[m.pick % paths.length]!;
  if (path.length === 0) return m.kind === 'replace' ? m.value : m.kind === 'nest' ? nested(m.depth, root, m.asArray) : root;
  const parent = parentOf(root, path)!;
  const key = path[path.length - 1]!;
  switch (m.kind) {
    case 'drop':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case 'replace':
      setOwnProp(parent, key, m.value);
      break;
    case 'addKey': {
      const target = parent[key];
      if (typeof target === 'object' && target !== null && !Array.isArray(target) && !(target instanceof JsonFloat)) setOwnProp(target, m.key, m.value);
      else setOwnProp(parent, key, m.value);
      break;
    }
    case 'nest':
      setOwnProp(parent, key, nested(m.depth, parent[key], m.asArray));
      break;
    case 'duplicateItem':
      if (Array.isArray(parent)) parent.splice(key as number, 0, parent[key as number]);
      break;
  }
  return root;
}

type TextMutation =
  | { kind: 'none' }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicateKey'; pick: number; value: string };

const textMutation: fc.Arbitrary<TextMutation> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('"', '\\', '{', '[', ',', ':', '\\u', '\\ud800', '\u0000')) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ kind: fc.constant('duplicateKey' as const), pick: fc.nat(), value: fc.constantFrom('null', '1', '1.0', '"x"', '[]', '{}', 'true', '99999999999999999999') }),
);

function applyTextMutation(text: string, m: TextMutation): string {
  switch (m.kind) {
    case 'none':
      return text;
    case 'truncate':
      return text.slice(0, m.at % (text.length + 1));
    case 'insert': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + m.text + text.slice(at);
    }
    case 'delete': {
      const at = m.at % (text.length + 1);
      return text.slice(0, at) + text.slice(at + m.length);
    }
    case 'duplicateKey': {
      // repeat an existing key with another value: JSON allows it, the last one wins (as in Python)
      const keys = [...text.matchAll(/"([A-Za-z_]+)":/g)];
      if (keys.length === 0) return text;
      const k = keys[m.pick % keys.length]!;
      const insertAt = k.index;
      return `${text.slice(0, insertAt)}"${k[1]!}":${m.value},${text.slice(insertAt)}`;
    }
  }
}

function framesOf(link: LinkName): string[] {
  return UPSTREAM_FRAMES.filter((f) => f.link === link).map((f) => f.text);
}

describe.each(LINKS)('the %s decoder', (link) => {
  const frames = framesOf(link);
  const codec = CODECS[link];
  const messageTypes = [...codec.messageTypes];

  it('never throws on random strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 100 })), (text) => {
        checkDecode(link, text);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on random JSON values, message_type or not', () => {
    const withType = fc
      .tuple(fc.constantFrom(...messageTypes), fc.dictionary(fc.string({ maxLength: 20 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }))
      .map(([message_type, rest]) => JSON.stringify({ ...rest, message_type }));
    fc.assert(
      fc.property(fc.oneof(fc.json({ maxDepth: 4 }), withType), (text) => {
        checkDecode(link, text);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on mutated upstream frames: dropped, altered, duplicated, retyped and deeply nested fields', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...frames),
        fc.array(treeMutation, { minLength: 1, maxLength: 4 }),
        textMutation,
        (text, treeMutations, tm) => {
          const parsed = parseJson(text);
          if (!parsed.ok) throw new Error(parsed.error);
          let tree: Tree = parsed.value;
          for (const m of treeMutations) tree = applyTreeMutation(tree, m);
          let mutated: string;
          try {
            mutated = pydanticJsonDumps(tree);
          } catch {
            return; // a mutation nested past the writer's own guard: nothing to send
          }
          checkDecode(link, applyTextMutation(mutated, tm));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('decodes every single-field mutation of a valid frame to a typed message or a typed error, never to garbage', () => {
    // a narrower, exhaustive-ish pass: each field of each frame replaced by each odd value
    for (const text of frames) {
      const parsed = parseJson(text);
      if (!parsed.ok) throw new Error(parsed.error);
      const count = allPaths(parsed.value).length;
      for (let pick = 1; pick < count; pick++) {
        for (const value of ODD_VALUES) {
          const tree = parseJson(text);
          if (!tree.ok) throw new Error(tree.error);
          checkDecode(link, pydanticJsonDumps(applyTreeMutation(tree.value, { kind: 'replace', pick, value: cloneTree(value) })));
        }
      }
    }
  });
});

it('refuses frames over the limit whatever they hold', () => {
  const codec = CODECS.minerToValidator;
  fc.assert(
    fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 50 }), (chunk) => {
      const text = chunk.repeat(Math.ceil((64 * 1024 + 1) / chunk.length));
      const r = codec.decode(text);
      expect(!r.ok && r.error.code).toBe('frame.too_large');
    }),
    { numRuns: 100 },
  );
});
