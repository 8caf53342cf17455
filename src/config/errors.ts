import { HordeError } from '../util/errors';

/**
 * The configuration a user gave (flags, environment, config file) is unusable. Lists every problem at once, one per
 * line, each naming where the bad value came from; the CLI prints `message` and exits without a stack trace.
 */
export class ConfigError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('config.invalid', `invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.problems = problems;
  }
}

/** A role's setting definitions contradict themselves (a programming error, caught when they are defined). */
export class ConfigDefinitionError extends HordeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('config.bad_definition', `bad setting definitions: ${problems.join('; ')}`);
    this.problems = problems;
  }
}
