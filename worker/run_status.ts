/**
 * Whether a worker starts new tasks: it is paused by hand or for memory (its MemoryBook says
 * when), and the scheduler hears of each change at once (`worker-status`), so that it places
 * nothing new there while paused. Pure.
 *
 * @module
 */
import { pauseMessage } from "./memory_pause.ts";
import type { MemoryBook } from "./memory_state.ts";
import type { WorkerOutbox } from "./worker_task.ts";

/** A worker's running or paused status. */
export class RunStatus {
  #byHand = false;
  #paused = false;

  /** `resumed`: what to do when the worker runs again (start what waits). */
  constructor(
    private readonly data: MemoryBook,
    private readonly out: WorkerOutbox,
    private readonly resumed: () => void,
  ) {}

  /** Whether the worker is paused (by hand or for memory). */
  get paused(): boolean {
    return this.#paused;
  }

  /** Pauses or resumes by hand. */
  setByHand(paused: boolean): void {
    this.#byHand = paused;
    this.#update();
  }

  /** The MemoryBook paused or resumed the worker; `rss`: its process memory. Logged as Dask does. */
  memoryChanged(paused: boolean, rss: number): void {
    this.out.log(`[worker] ${pauseMessage(this.data.config, rss, paused)}`);
    this.#update();
  }

  #update(): void {
    const paused = this.#byHand || this.data.paused;
    if (this.#paused === paused) return;
    this.#paused = paused;
    this.out.scheduler({ op: "worker-status", status: paused ? "paused" : "running" });
    if (!paused) this.resumed();
  }
}
