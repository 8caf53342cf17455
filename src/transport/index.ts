// Public API of src/transport. Engineers append their exports below; keep one line per module.
export * from './reliable';
export * from './defaults';
export * from './errors';
export * from './fastSend';
export * from './link';
export * from './metrics';
export * from './options';
export * from './outbox';
export * from './quietBatch';
export * from './reconnect';
export * from './socket';
export * from './transport.machine';
export * from './transport';
export * from './acceptor';
