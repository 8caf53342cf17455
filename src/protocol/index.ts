/**
 * ComputeHorde's wire protocol: every message of every link, the per-link codecs, and the JSON/schema layer under
 * them. See docs/protocol.md.
 */
export type { DecodeError, FrameCodec } from './codec.types';
export * from './defaults';
export {
  JsonFloat,
  JsonEncodeIssue,
  compareCodePoints,
  formatFloat,
  isJsonObject,
  parseJson,
  pydanticJsonDumps,
  pythonJsonDumps,
  type JsonObject,
  type JsonStyle,
  type JsonValue,
} from './json';
export {
  DefaultSchema,
  DiscriminatedUnionSchema,
  EnumSchema,
  ObjectSchema,
  Schema,
  SchemaEncodeError,
  bigint,
  bool,
  datetime,
  discriminatedUnion,
  enumeration,
  float,
  formatPath,
  int,
  isIsoDatetime,
  jsonValue,
  list,
  literal,
  nullable,
  object,
  optional,
  pattern,
  record,
  str,
  union,
  withDefault,
  type AnySchema,
  type ExtraPolicy,
  type Infer,
  type Input,
  type ObjectIn,
  type ObjectOptions,
  type ObjectOut,
  type SchemaIssue,
  type Shape,
} from './schema';
export * from './enums';
export * from './common';
export * from './volume';
export * from './output-upload';
export * from './receipts';
export * from './messages';
export * from './facilitator';
export * from './legacy';
export { createLinkCodec, duplexCodec, type LinkCodec, type LinkCodecOptions, type LinkDefinition, type LinkMessage } from './codec';
export * from './links/validator-to-miner';
export * from './links/miner-to-validator';
export * from './links/miner-to-executor';
export * from './links/executor-to-miner';
export * from './links/facilitator-to-validator';
export * from './links/validator-to-facilitator';
