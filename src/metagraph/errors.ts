import { HordeError } from '../util/errors';

/** The metagraph file could not be read or is not a valid metagraph; lists every problem found. */
export class MetagraphLoadError extends HordeError {
  readonly problems: readonly string[];

  constructor(source: string, problems: readonly string[], options?: { cause?: unknown }) {
    super('metagraph.invalid', `metagraph ${source}: ${problems.join('; ')}`, options);
    this.problems = problems;
  }
}
