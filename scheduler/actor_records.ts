/**
 * The scheduler's records of actor tasks: how many re-creations each has left and which worker
 * holds its instance, kept up to date from the transitions of its task (the records call
 * `moved` for each). What happens to an actor that the calls relayed to it must hear of — its
 * instance is ready on a worker, it is being re-created, its key erred or was forgotten — goes
 * out as an ActorEvent. Pure: no I/O, no timers.
 *
 * @module
 */
import type { ErrorEnvelope } from "../core/errors.ts";
import type { TaskState, TaskStateName, WorkerState } from "./task_state.ts";

/** One actor task. */
export interface ActorRecord {
  /** Re-creations left when the worker holding its instance dies (`actorRestarts`). */
  restarts: number;
  /** The address of the worker holding its instance; null while it is not made. */
  worker: string | null;
}

/** What the relayed calls hear of an actor. */
export type ActorEvent =
  /** Its instance is made, on `worker`: calls waiting for it go there. */
  | { kind: "ready"; key: string; worker: string }
  /** The worker holding it (`worker`) died and it is being re-created elsewhere. */
  | { kind: "restarting"; key: string; worker: string }
  /** Its key erred (its constructor threw, or the worker holding it died for good). */
  | { kind: "failed"; key: string; error: ErrorEnvelope }
  /** Its key was forgotten: nothing holds it any more. */
  | { kind: "gone"; key: string };

/** Where an actor call goes now, as the scheduler's records say. */
export type ActorStatus =
  | { kind: "ready"; worker: string }
  /** Being made (or re-created): calls wait. */
  | { kind: "pending" }
  | { kind: "failed"; error: ErrorEnvelope }
  /** Not an actor the scheduler knows: released, forgotten, or never made. */
  | { kind: "gone" };

/** Every actor task, by task. */
export class ActorRecords {
  readonly #records = new Map<TaskState, ActorRecord>();
  /** The actors each worker holds, by address (placement and supervision read it per worker). */
  readonly #held = new Map<string, Set<TaskState>>();
  /** Actor tasks being made (processing): few at a time. */
  readonly #making = new Set<TaskState>();

  /** `emit`: where the events go (the scheduler's outbox). */
  constructor(readonly emit: (e: ActorEvent) => void) {}

  /** How many actor tasks there are (0: nothing to look up). */
  get size(): number {
    return this.#records.size;
  }

  /** `ts`'s record, when it is an actor. */
  get(ts: TaskState): ActorRecord | undefined {
    return this.#records.get(ts);
  }

  /** Whether `ts` is an actor task. */
  has(ts: TaskState): boolean {
    return this.#records.has(ts);
  }

  /** `ts` is an actor task, re-created up to `restarts` times when its worker dies. */
  add(ts: TaskState, restarts: number): void {
    this.#records.set(ts, { restarts, worker: null });
  }

  /** Actor task `ts` moved from `from` to `to` (on `worker`, when it went to memory). */
  moved(ts: TaskState, from: TaskStateName, to: TaskStateName, worker?: string): void {
    const r = this.#records.get(ts);
    if (r === undefined) return;
    if (to === "processing") this.#making.add(ts);
    else if (from === "processing") this.#making.delete(ts);
    if (to === "memory" && from === "processing" && worker !== undefined) {
      this.#hold(ts, r, worker);
      this.emit({ kind: "ready", key: ts.key, worker });
    } else if (from === "memory") this.#hold(ts, r, null);
    if (to === "erred") {
      const error = ts.exception ?? { name: "Error", message: `actor ${ts.key} erred` };
      this.emit({ kind: "failed", key: ts.key, error });
    }
  }

  /** The worker holding actor `ts` died, and it is re-created elsewhere. */
  restarting(ts: TaskState, worker: string): void {
    this.emit({ kind: "restarting", key: ts.key, worker });
  }

  /** Actor task `ts` was forgotten. */
  removed(ts: TaskState): void {
    const r = this.#records.get(ts);
    if (r === undefined) return;
    this.#hold(ts, r, null);
    this.#making.delete(ts);
    this.#records.delete(ts);
    this.emit({ kind: "gone", key: ts.key });
  }

  /** The actor tasks whose instances the worker at `address` holds. */
  heldOn(address: string): TaskState[] {
    return [...this.#held.get(address) ?? []];
  }

  /** How many actors `ws` holds or is making (placement balances them, as Dask). */
  countOn(ws: WorkerState): number {
    let n = this.#held.get(ws.address)?.size ?? 0;
    for (const ts of this.#making) if (ts.processingOn === ws) n++;
    return n;
  }

  /** Records that `worker` (null: none) holds the instance of actor `ts`. */
  #hold(ts: TaskState, r: ActorRecord, worker: string | null): void {
    if (r.worker !== null) {
      const on = this.#held.get(r.worker);
      on?.delete(ts);
      if (on?.size === 0) this.#held.delete(r.worker);
    }
    r.worker = worker;
    if (worker === null) return;
    let on = this.#held.get(worker);
    if (on === undefined) this.#held.set(worker, on = new Set());
    on.add(ts);
  }

  /** Where a call on the actor of `ts` (undefined: no such key) goes now. */
  status(ts: TaskState | undefined): ActorStatus {
    const r = ts && this.#records.get(ts);
    if (ts === undefined || r === undefined) return { kind: "gone" };
    if (ts.state === "memory" && r.worker !== null) return { kind: "ready", worker: r.worker };
    if (ts.state === "erred") {
      return { kind: "failed", error: ts.exception ?? { name: "Error", message: "erred" } };
    }
    return ts.state === "released" || ts.state === "forgotten"
      ? { kind: "gone" }
      : { kind: "pending" };
  }
}
