/**
 * The actor runtime: Actor (one message at a time), ActorRef, and a one-for-one Supervisor.
 *
 * @module
 */

export { Actor, type ActorRef } from "./actor.ts";
export {
  type ChildOptions,
  type ChildStatus,
  type RestartPolicy,
  type Supervisable,
  Supervisor,
  type SupervisorEvent,
  type SupervisorEventType,
  type SupervisorOptions,
} from "./supervisor.ts";
