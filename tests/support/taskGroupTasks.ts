/**
 * Task group children that a test drives by hand: each one registers a control when it starts, through which the
 * test makes it arrive at a barrier, finish or fail, and sees what it was released from and whether it was stopped.
 */
import { fromCallback } from 'xstate';
import type { BarrierReleaseEvent, TaskSpec, TaskToGroupEvent } from '../../src/actors/taskGroup';

export interface TaskControl {
  arrive(name: string): void;
  finish(output?: unknown): void;
  fail(error: unknown): void;
  /** Barriers this child was released from, in order. */
  readonly released: string[];
  /** True once the task's cleanup ran (it was stopped). */
  stopped: boolean;
}

export function controlledTasks() {
  const controls = new Map<string, TaskControl>();
  const logic = fromCallback<BarrierReleaseEvent, { id: string }>(({ input, sendBack, receive }) => {
    const send = (event: TaskToGroupEvent): void => sendBack(event);
    const control: TaskControl = {
      arrive: (name) => send({ type: 'taskGroup.barrier.arrive', name }),
      finish: (output) => send({ type: 'taskGroup.task.done', output }),
      fail: (error) => send({ type: 'taskGroup.task.failed', error }),
      released: [],
      stopped: false,
    };
    receive((event) => control.released.push(event.name));
    controls.set(input.id, control);
    return () => {
      control.stopped = true;
    };
  });
  const control = (id: string): TaskControl => {
    const found = controls.get(id);
    if (!found) throw new Error(`task ${id} has not started`);
    return found;
  };
  const spec = (id: string, extra: Partial<TaskSpec> = {}): TaskSpec => ({ id, logic, input: { id }, ...extra });
  /** Ids of started tasks that have not been stopped. */
  const live = (): string[] => [...controls].filter(([, c]) => !c.stopped).map(([id]) => id);
  return { logic, controls, control, spec, live };
}
