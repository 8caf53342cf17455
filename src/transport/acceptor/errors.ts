import { HordeError } from '../../util/errors';

/** The acceptor's options are inconsistent (a bad route pattern, a duplicate route name, a non-positive limit). */
export class AcceptorConfigError extends HordeError {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super('acceptor.invalid_config', `invalid acceptor options: ${problems.join('; ')}`);
    this.problems = problems;
  }
}

/** The connection machine ran without its socket or role logic provided (a wiring bug, not a peer's fault). */
export class ConnectionNotWiredError extends HordeError {
  constructor(actor: 'socket' | 'role') {
    super('connection.not_wired', `connectionMachine needs a '${actor}' actor: provide it with machine.provide()`);
  }
}

/** The route's codec threw while encoding an outgoing message; the connection closes with 1011. */
export class EncodeFailedError extends HordeError {
  constructor(cause: unknown) {
    super('connection.encode_failed', 'the codec could not encode an outgoing message', { cause });
  }
}

/** The route's role logic failed; the connection closes with 1011. */
export class RoleFailedError extends HordeError {
  constructor(cause: unknown) {
    super('connection.role_failed', 'the connection role logic failed', { cause });
  }
}

/** The supervisor under which connections run has failed (escalated); the acceptor refuses new upgrades. */
export class AcceptorSupervisorFailedError extends HordeError {
  constructor(cause: unknown) {
    super('acceptor.supervisor_failed', 'the connection supervisor failed', { cause });
  }
}
