/**
 * The scheduler process's CPU use, memory (RSS) and event-loop lag, sampled every second into
 * a bounded ring: the dashboard's system page draws them.
 *
 * @module
 */
import { CpuMeter } from "../core/cpu_meter.ts";

/** Samples kept: five minutes at one a second. */
export const SYSTEM_SAMPLES_KEPT = 300;
/** How often the scheduler samples itself (ms). */
export const SYSTEM_SAMPLE_INTERVAL = 1000;

/** One sample. */
export interface SystemSample {
  /** ms since the epoch. */
  time: number;
  /** CPU use since the previous sample, in percent of one core. */
  cpu: number;
  /** Process memory (bytes). */
  rss: number;
  /** How late the sampling tick ran (ms): the event loop's lag. */
  lag: number;
}

/** The ring of samples, fed by the scheduler's system timer. */
export class SystemSamples {
  readonly #samples: SystemSample[] = [];
  readonly #cpu = new CpuMeter();
  #last = performance.now();

  /** Takes a sample: called every `interval` ms (the lag is how much later it came). */
  sample(interval = SYSTEM_SAMPLE_INTERVAL): void {
    const at = performance.now();
    const lag = Math.max(0, at - this.#last - interval);
    this.#last = at;
    if (this.#samples.length === SYSTEM_SAMPLES_KEPT) this.#samples.shift();
    this.#samples.push({
      time: Date.now(),
      cpu: this.#cpu.percent(),
      rss: Deno.memoryUsage().rss,
      lag: Math.round(lag * 10) / 10,
    });
  }

  /** The samples, oldest first. */
  list(): SystemSample[] {
    return this.#samples.slice();
  }
}
