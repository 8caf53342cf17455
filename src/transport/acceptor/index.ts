// Public API of the WebSocket acceptor (server side of every Horde link).
export {
  Acceptor,
  acceptorOptionsProblems,
  createAcceptor,
  type AcceptorOptions,
  type AcceptorState,
  type RouteSpec,
  type UpgradeOutcome,
  type UpgradeVerdict,
  type VerifyUpgrade,
} from './acceptor';
export {
  clampCloseReason,
  CLOSE_BY_ERROR_CODE,
  CloseCode,
  closeEventFor,
  closeFor,
  INTERNAL_ERROR_CLOSE,
  isSendableCloseCode,
  MAX_CLOSE_REASON_BYTES,
  type CloseCodeValue,
  type CloseSpec,
} from './closeCodes';
export {
  connectionMachine,
  type ConnectionActorRef,
  type ConnectionEvent,
  type ConnectionInput,
  type ConnectionOutput,
  type ConnectionRoleLogic,
  type ConnectionSocketLogic,
  type ConnectionTimings,
} from './connection.machine';
export type {
  CloseInitiator,
  ConnectionBehaviour,
  ConnectionBehaviourInput,
  ConnectionCommand,
  ConnectionHandle,
  ConnectionRoleEvent,
  ConnectionShutdownEvent,
} from './connection.types';
export * from './defaults';
export {
  AcceptorConfigError,
  AcceptorSupervisorFailedError,
  ConnectionNotWiredError,
  EncodeFailedError,
  RoleFailedError,
} from './errors';
export { createAcceptorMetrics, type AcceptorMetrics } from './metrics';
export { ConnectionRegistry, type ConnectionEntry, type ConnectionRegistryStore, type RegistrySummary } from './registry';
export { ReliableSessionRegistry, type AcceptorReliableSession, type SessionEvictionReason } from './reliableSessions';
export { compilePattern, matchPattern, pathnameOf, type CompiledPattern, type PathParams } from './routes';
export { createWsSocketActor } from './socket.actor';
export { WriteCoalescer, type SocketFlush, type WriteCoalescerOptions } from './writeCoalescer';
