/**
 * What a worker's state machine does with the answers of its spill store: a result written
 * through is reported once written, or errs its task with a SpillError when the write fails; a
 * value read back lets its waiting tasks start and its waiting peers be answered; a value that
 * cannot be read back is lost here, which the scheduler hears (it recomputes it if still wanted).
 * Pure.
 *
 * @module
 */
import type { Payload } from "../comm/serialize.ts";
import type { ErrorEnvelope } from "../core/errors.ts";
import type { TransitionRecorder } from "../core/transition_recorder.ts";
import type { MemoryBook } from "./memory_state.ts";
import type { TaskInputs } from "./task_inputs.ts";
import type { DataServer } from "./data_server.ts";
import { formatBytes } from "../core/format_bytes.ts";
import type { WorkerOutbox, WorkerTask } from "./worker_task.ts";

/** A value's spill file `id` is written (`diskBytes` long). */
export interface Spilled {
  kind: "spilled";
  id: number;
  diskBytes: number;
  /** When the write was asked and when it ended (ms since the epoch), if measured. */
  start?: number;
  stop?: number;
}

/** Writing spill file `id` failed; `message` says why. */
export interface SpillFailed {
  kind: "spill-failed";
  id: number;
  message: string;
}

/** Spill file `id` is read back. */
export interface Unspilled {
  kind: "unspilled";
  id: number;
  payload: Payload;
  /** When the read was asked and when it ended (ms since the epoch), if measured. */
  start?: number;
  stop?: number;
}

/** Reading spill file `id` back failed; `message` says why. */
export interface UnspillFailed {
  kind: "unspill-failed";
  id: number;
  message: string;
}

/** How a write or read of a spill file ended. */
export type SpillAnswer = Spilled | SpillFailed | Unspilled | UnspillFailed;

/** What SpillAnswers needs from the state machine around it. */
export interface SpillAnswersHost {
  readonly tasks: Map<string, WorkerTask>;
  readonly record: TransitionRecorder;
  readonly out: WorkerOutbox;
  /** The worker's address, named when a value it held is lost. */
  readonly self: string;
  /** Report `ts` in memory. */
  finished(ts: WorkerTask, start: number, stop: number, thread?: number): void;
  /** Hand `ts`, its inputs all in memory, to a thread slot. */
  launch(ts: WorkerTask): void;
  /** `ts` cannot start: its input `key` is gone. */
  cannotStart(ts: WorkerTask, key: string): void;
  /** `key` is no longer held as a replica. */
  unhold(key: string): void;
  /** Start what may start. */
  dispatch(): void;
}

/** The state machine's handling of spill writes and reads that ended. */
export class SpillAnswers {
  constructor(
    private readonly data: MemoryBook,
    private readonly inputs: TaskInputs,
    private readonly server: DataServer,
    private readonly host: SpillAnswersHost,
  ) {}

  /** A write or read of a spill file ended. */
  answer(a: SpillAnswer): void {
    switch (a.kind) {
      case "spilled":
        return this.#spilled(a.id, a.diskBytes);
      case "spill-failed":
        return this.#spillFailed(a.id, a.message);
      case "unspilled":
        return this.#unspilled(a.id, a.payload);
      case "unspill-failed":
        return this.#unspillFailed(a.id, a.message);
    }
  }

  /** Spill file `id` is written (`diskBytes` long): a result written through is reported. */
  #spilled(id: number, diskBytes: number): void {
    const answer = this.data.written(id, diskBytes);
    if (!answer?.reportOnWrite) return;
    const ts = this.host.tasks.get(answer.key);
    if (ts?.state !== "memory" || !ts.ran) return;
    const { start, stop, thread } = ts.ran;
    ts.ran = undefined;
    this.host.finished(ts, start, stop, thread);
  }

  /**
   * Writing spill file `id` failed: the value stays in memory, unless it was a result over the
   * memory target written through, which errs its task with a SpillError that says why.
   */
  #spillFailed(id: number, message: string): void {
    const answer = this.data.writeFailed(id, message);
    if (!answer?.reportOnWrite) return;
    const host = this.host, ts = host.tasks.get(answer.key);
    if (ts?.state !== "memory" || !ts.ran) return;
    const { start, stop, nbytes, thread } = ts.ran;
    ts.state = "error";
    host.record.transition(ts.key, "memory", "error");
    host.tasks.delete(ts.key);
    const e = spillError(ts.key, nbytes, this.data.config.target ?? 0, message);
    const th = thread !== undefined && thread >= 0 ? thread : undefined;
    host.out.scheduler({
      op: "task-erred",
      k: ts.key,
      e,
      start,
      stop,
      ...(th !== undefined && { th }),
    });
  }

  /** Spill file `id` is read back: the tasks and peers waiting for its value go on. */
  #unspilled(id: number, p: Payload): void {
    const key = this.data.loaded(id, p);
    if (key === null) return;
    for (const ts of this.inputs.loaded(key)) this.host.launch(ts);
    this.server.loaded(key);
  }

  /**
   * Spill file `id` could not be read back: its value is lost here. The tasks waiting for it are
   * dropped, and the scheduler hears that this worker no longer holds it.
   */
  #unspillFailed(id: number, message: string): void {
    const key = this.data.loadFailed(id);
    if (key === null) return;
    const host = this.host;
    host.out.log(`[worker] lost ${key}: reading it back from disk failed: ${message}`);
    host.unhold(key);
    const ts = host.tasks.get(key);
    if (ts?.state === "memory") {
      host.record.transition(key, "memory", "released");
      host.tasks.delete(key);
    }
    host.out.scheduler({ op: "missing-data", k: key, key, worker: host.self });
    for (const waiting of this.inputs.lost(key)) host.cannotStart(waiting, key);
    this.server.lost(key);
    host.dispatch();
  }
}

/** The error of a result over the memory target that could not be written to disk. */
function spillError(key: string, nbytes: number, target: number, cause: string): ErrorEnvelope {
  return {
    name: "SpillError",
    message: `could not store the result of '${key}' (${formatBytes(nbytes)}, over the memory ` +
      `target of ${formatBytes(target)}): ${cause}`,
  };
}
