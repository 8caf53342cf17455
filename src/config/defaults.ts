/**
 * Defaults of the configuration loader itself (each role's settings declare their own defaults).
 */

/** Flag naming a JSON config file (`--config horde.json`). Reserved: no setting may use it. */
export const CONFIG_FILE_FLAG = 'config';

/** Environment variable naming a JSON config file when `--config` is absent. */
export const CONFIG_FILE_ENV = 'HORDE_CONFIG';

/** Flag that prints the generated help instead of loading (`-h` too). Reserved: no setting may use it. */
export const HELP_FLAG = 'help';

/** Column at which generated help text wraps. Wider terminals just see shorter lines. */
export const HELP_WRAP_COLUMNS = 100;

/** Edit distance within which an unknown flag gets a "did you mean" suggestion. Larger suggests unrelated flags. */
export const FLAG_SUGGESTION_MAX_DISTANCE = 2;

/** Text shown instead of the value of a setting marked `secret` (in summaries and help defaults). */
export const REDACTED_VALUE = '[redacted]';
