/**
 * The CPU use of this process between two readings, in percent of one core (200 means two
 * cores busy), for the worker's heartbeat and the scheduler's system page.
 *
 * @module
 */
import process from "node:process";

/** Measures CPU use since the previous `percent()` call (the first call: since it was made). */
export class CpuMeter {
  #cpu = process.cpuUsage();
  #at = performance.now();

  /** Percent of one core used since the previous reading (0 when no time passed). */
  percent(): number {
    const cpu = process.cpuUsage(), at = performance.now();
    const used = (cpu.user - this.#cpu.user + cpu.system - this.#cpu.system) / 1000; // ms
    const wall = at - this.#at;
    this.#cpu = cpu;
    this.#at = at;
    return wall > 0 ? Math.max(0, Math.round((used / wall) * 1000) / 10) : 0;
  }
}
