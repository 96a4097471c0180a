/**
 * Timers that do not hold the program open, for the parts of a program's own LocalCluster that
 * run on their own (see comm/activity.ts for what holds it open while it waits for them).
 *
 * @module
 */

/** Marks a timer as one that does not hold the program open. */
export type TimerRelease = (timer: ReturnType<typeof setTimeout>) => void;

/** Lets the program exit while `timer` is pending (Deno's `unrefTimer`). */
export const unrefTimer: TimerRelease = (timer) => Deno.unrefTimer(timer as unknown as number);

/** Leaves `timer` as it is: it holds the program open until it fires or is cleared. */
export const keepTimer: TimerRelease = () => {};

/** `unrefTimer` when the program should not be held open, else `keepTimer`. */
export function timerRelease(keepAlive: boolean): TimerRelease {
  return keepAlive ? keepTimer : unrefTimer;
}
