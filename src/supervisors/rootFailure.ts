import type { AnyActorRef } from 'xstate';
import type { Logger } from '../telemetry/logger';
import { errorCode, toError } from '../util/errors';

/**
 * Watches a role's root supervisor for failure (an escalation past its restart intensity, or a crash of its own):
 * logs it with its stable code and calls `onFatal`, where the role's command ends the process. Subscribe before
 * `start()`, so that a failure while starting is seen too.
 *
 * @example
 * ```ts
 * const root = createActor(supervisorMachine, { input });
 * watchRootFailure(root, { role: 'miner', logger, onFatal: options.onFatal });
 * root.start();
 * ```
 */
export function watchRootFailure(
  root: AnyActorRef,
  options: { readonly role: string; readonly logger: Logger; readonly onFatal?: ((error: unknown) => void) | undefined },
): void {
  root.subscribe({
    error: (error) => {
      options.logger.error(`${options.role} root actor failed`, { code: errorCode(error), error: toError(error).message });
      options.onFatal?.(error);
    },
  });
}
