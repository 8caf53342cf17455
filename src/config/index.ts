/**
 * Configuration loading shared by every role: declare settings once with `defineSettings`/`setting`, load them
 * with `loadConfig` (flags > env > JSON file > defaults), print `helpText` for `--help`.
 */
export * from './defaults';
export * from './errors';
export {
  type SettingDef,
  type SettingDefs,
  type ConfigOf,
  type Parsed,
  type Builder,
  setting,
  defineSettings,
  parseDurationMs,
  kebabCase,
  flagOf,
} from './settings';
export { type Source, type LoadOptions, type LoadOutcome, loadConfig, describeConfig } from './load';
export { type HelpOptions, helpText } from './help';
