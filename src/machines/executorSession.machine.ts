/**
 * One executor connection on the miner (upstream's `MinerExecutorConsumer`), the role logic of
 * `/v0.1/executor_interface/{executor_token}`.
 *
 * Lifecycle: claiming → (refusing → closed) | serving → closed.
 * - The token is the executor's credential: it must belong to a job waiting for its executor, and it is single-use
 *   (a second connection with it is refused). Refused: `GenericError("No job waiting for token …")`, close (1000).
 * - Claimed: the job hears `job.executor.connected` (it sends the initial request itself), then every message from
 *   the executor as `job.executor.message`, then `job.executor.disconnected` when the socket goes.
 */
import { enqueueActions, setup, type AnyActorRef } from 'xstate';
import type { ExecutorToMinerMessage, MinerToExecutorMessageInput } from '../protocol';
import type {
  ConnectionBehaviourInput,
  ConnectionHandle,
  ConnectionRoleEvent,
} from '../transport/acceptor/connection.types';
import type { MinerJobEvent } from './minerJob.machine';

/** The miner services an executor session uses; bound once per miner. */
export interface ExecutorSessionServices {
  /** Takes the token for this connection; only the first claim of a token waiting for its executor succeeds. */
  claimToken(token: string): { readonly ok: true; readonly job: AnyActorRef } | { readonly ok: false; readonly details: string };
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

interface ExecutorSessionContext {
  readonly token: string;
  readonly connection: ConnectionHandle<MinerToExecutorMessageInput>;
  readonly peerAddress: string | undefined;
  readonly realIp: string | undefined;
  job: AnyActorRef | undefined;
  refusal: string | undefined;
}

type ExecutorSessionEvent =
  | ConnectionRoleEvent<ExecutorToMinerMessage>
  | { readonly type: 'session.claimed'; readonly job: AnyActorRef }
  | { readonly type: 'session.unclaimed'; readonly details: string };

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Builds the executor session machine bound to `services` (see the module comment).
 *
 * @example
 * ```ts
 * const behaviour = createExecutorSessionMachine({ claimToken: (t) => registry.claim(t), log });
 * ```
 */
export function createExecutorSessionMachine(services: ExecutorSessionServices) {
  return setup({
    types: {
      context: {} as ExecutorSessionContext,
      input: {} as ConnectionBehaviourInput<MinerToExecutorMessageInput>,
      events: {} as ExecutorSessionEvent,
    },
    actions: {
      claim: enqueueActions(({ context, enqueue }) => {
        const claim = services.claimToken(context.token);
        if (claim.ok) enqueue.raise({ type: 'session.claimed', job: claim.job });
        else enqueue.raise({ type: 'session.unclaimed', details: claim.details });
      }),
      connectJob: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'session.claimed') return;
        enqueue.assign({ job: event.job });
        enqueue.sendTo(context.connection, { type: 'connection.authenticated', identity: context.token });
        enqueue.sendTo(event.job, {
          type: 'job.executor.connected',
          connection: context.connection,
          peerAddress: context.peerAddress,
          realIp: context.realIp,
        } satisfies MinerJobEvent);
      }),
      refuse: enqueueActions(({ context, event, enqueue }) => {
        const details = event.type === 'session.unclaimed' ? event.details : 'refused';
        enqueue.sendTo(context.connection, { type: 'connection.send', message: { message_type: 'GenericError', details } });
        enqueue(() => services.log('warn', 'executor connection refused', { details }));
      }),
      forward: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'connection.message' || context.job === undefined) return;
        enqueue.sendTo(context.job, { type: 'job.executor.message', message: event.message } satisfies MinerJobEvent);
      }),
      answerMalformed: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'connection.decode_error') return;
        enqueue.sendTo(context.connection, {
          type: 'connection.send',
          message: { message_type: 'GenericError', details: `Malformed message: ${event.error.message}` },
        });
      }),
      tellDisconnected: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'connection.closed' || context.job === undefined) return;
        enqueue.sendTo(context.job, {
          type: 'job.executor.disconnected',
          code: event.code,
          reason: event.reason,
        } satisfies MinerJobEvent);
      }),
    },
  }).createMachine({
    id: 'executorSession',
    context: ({ input }) => ({
      token: input.params['token'] ?? '',
      connection: input.connection,
      peerAddress: input.remoteAddress,
      realIp: firstHeader(input.headers['x-real-ip']),
      job: undefined,
      refusal: undefined,
    }),
    initial: 'claiming',
    states: {
      // Checking the token against the jobs waiting for an executor.
      claiming: {
        entry: 'claim',
        on: {
          'session.claimed': { target: 'serving', actions: 'connectJob' },
          'session.unclaimed': { target: 'refusing', actions: 'refuse' },
        },
      },
      // Unknown, used or expired token: the GenericError is out, the role ends, the connection closes with 1000.
      refusing: { always: 'closed' },
      // Bridging the executor and its job.
      serving: {
        on: {
          'connection.message': { actions: 'forward' },
          'connection.decode_error': { actions: 'answerMalformed' },
          'connection.closed': { target: 'closed', actions: 'tellDisconnected' },
        },
      },
      // Final.
      closed: { type: 'final' },
    },
  });
}

/** The executor session machine type (one per miner). */
export type ExecutorSessionMachine = ReturnType<typeof createExecutorSessionMachine>;
