/** The task group: public API. */
export { arriveAtBarrier, departFromBarriers, emptyBarrierBook, type BarrierBook, type BarrierRelease } from './barriers';
export * from './errors';
export { fromTask, type TaskArgs } from './task';
export { instrumentedTaskGroupMachine, runTaskGroup, type RunTaskGroupOptions } from './taskGroup';
export {
  taskGroupMachine,
  type TaskGroupActor,
  type TaskGroupEmitted,
  type TaskGroupEvent,
} from './taskGroup.machine';
export * from './types';
