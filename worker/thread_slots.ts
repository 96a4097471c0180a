/**
 * The worker's thread slots: which task starts next, and how many hold a slot. Ready tasks wait
 * by priority; a seceded task (one running on without a slot, e.g. while it waits for tasks it
 * submitted) that asks to rejoin gets the next free slot before any ready task starts. A task
 * that gets a slot has its inputs pinned and goes to the executor with its function once they
 * are all in memory. Pure.
 *
 * @module
 */
import type { FunctionDef } from "../comm/protocol.ts";
import type { Payload } from "../comm/serialize.ts";
import { IndexedHeap, priorityLess } from "../core/heap.ts";
import type { TransitionRecorder } from "../core/transition_recorder.ts";
import type { MemoryBook } from "./memory_state.ts";
import type { TaskInputs } from "./task_inputs.ts";
import type { WorkerOutbox, WorkerTask } from "./worker_task.ts";

/** What ThreadSlots needs from the state machine around it. */
export interface ThreadSlotsHost {
  readonly data: MemoryBook;
  readonly inputs: TaskInputs;
  readonly record: TransitionRecorder;
  readonly out: WorkerOutbox;
  /** `ts` cannot start: its input `key` is not here any more. */
  cannotStart(ts: WorkerTask, key: string): void;
}

/** The ready queue, the seceded tasks waiting to rejoin, and the count of slots taken. */
export class ThreadSlots {
  /** Tasks handed to the executor (or reading their inputs back first) and not settled. */
  executing = 0;
  readonly #ready = new IndexedHeap<WorkerTask>((a, b) => priorityLess(a.priority, b.priority));
  readonly #functions = new Map<string, FunctionDef>();
  /** Seceded tasks waiting for a slot to rejoin, in order. */
  #rejoining: WorkerTask[] = [];

  /** `slots`: how many tasks may execute at once (the executor's capacity). */
  constructor(public slots: number, private readonly host: ThreadSlotsHost) {}

  /** Tasks ready to run and waiting for a slot. */
  get readyCount(): number {
    return this.#ready.size;
  }

  /** Keeps the definition of a function tasks run (it comes with the first of them). */
  learn(fn: FunctionDef): void {
    this.#functions.set(fn.h, fn);
  }

  /** `ts` has all its inputs here: it waits for a slot, by priority. */
  ready(ts: WorkerTask): void {
    ts.state = "ready";
    this.host.record.transition(ts.key, "waiting", "ready");
    this.#ready.push(ts);
  }

  /** `ts` is forgotten: it no longer waits for a slot. */
  forget(ts: WorkerTask): void {
    if (ts.state === "ready") this.#ready.remove(ts);
  }

  /** Running `ts` gives its slot back (it secedes); false when it holds none. */
  secede(ts: WorkerTask | undefined): boolean {
    if (!ts || ts.seceded || (ts.state !== "executing" && ts.state !== "cancelled")) return false;
    ts.seceded = true;
    this.executing--;
    return true;
  }

  /**
   * Task `key` (`ts`) wants a slot again: a seceded task gets the next free one; any other is
   * answered at once (out.rejoined). True when it now waits for a slot.
   */
  rejoin(key: string, ts: WorkerTask | undefined): boolean {
    if (!ts || !ts.seceded) {
      this.host.out.rejoined?.(key);
      return false;
    }
    if (!this.#rejoining.includes(ts)) this.#rejoining.push(ts);
    return true;
  }

  /** Running `ts` settled: its slot is free; seceded, it held none and no longer waits for one. */
  settled(ts: WorkerTask): void {
    if (ts.seceded) {
      ts.seceded = false;
      const i = this.#rejoining.indexOf(ts);
      if (i >= 0) this.#rejoining.splice(i, 1);
    } else this.executing--;
  }

  /** Fills the free slots: rejoining tasks first, then ready tasks by priority. */
  fill(): void {
    const { out, record, inputs } = this.host;
    while (this.#rejoining.length && this.executing < this.slots) {
      const ts = this.#rejoining.shift()!;
      ts.seceded = false;
      this.executing++;
      out.rejoined?.(ts.key);
    }
    while (this.executing < this.slots && this.#ready.size) {
      const ts = this.#ready.pop()!;
      ts.state = "executing";
      record.transition(ts.key, "ready", "executing");
      this.executing++;
      const lost = inputs.pin(ts);
      if (lost !== null) this.host.cannotStart(ts, lost);
      else if (ts.loading === 0) this.launch(ts);
    }
  }

  /** Hands `ts`, its inputs all in memory, to a thread slot. */
  launch(ts: WorkerTask): void {
    const fn = this.#functions.get(ts.fn);
    const deps = new Map<string, Payload>();
    for (const dk of ts.deps) deps.set(dk, this.host.data.peek(dk)!);
    this.host.out.execute({
      key: ts.key,
      fnHash: ts.fn,
      fnName: fn?.n ?? "",
      fnSource: fn?.s ?? "",
      fnSite: fn?.u,
      args: ts.args,
      deps,
      actor: ts.actor,
    });
  }
}
