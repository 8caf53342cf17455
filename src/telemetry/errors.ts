import { HordeError } from '../util/errors';

/** `setupTelemetry()` was called while an earlier setup is still active (call its `shutdown()` first). */
export class TelemetryAlreadySetupError extends HordeError {
  constructor() {
    super(
      'telemetry.already_setup',
      'setupTelemetry() was already called in this process; call shutdown() on the first handle before setting up again',
    );
  }
}

/** Another library registered a global OpenTelemetry provider before Horde did, so Horde's would be ignored. */
export class TelemetryGlobalsTakenError extends HordeError {
  constructor(which: string) {
    super(
      'telemetry.globals_taken',
      `a global OpenTelemetry ${which} is already registered by someone else; Horde's instruments would be no-ops`,
    );
  }
}

/** The inspector configuration (env var or option) is unusable. */
export class InspectorConfigError extends HordeError {
  constructor(message: string) {
    super('telemetry.inspector_config', message);
  }
}
