/**
 * Submitting actors: `client.with({ actor: true, actorRestarts })` checked, and a submitted
 * class checked to be one (and a class refused where a function is expected). An actor's task
 * is a class instantiated on one worker; each submit makes a new instance (never pure).
 * Browser-safe.
 *
 * @module
 */
import type { SubmitOptions } from "./options.ts";

/** Checks `actor` and `actorRestarts` of `client.with` (TypeError naming the option). */
export function checkActorOptions(o: SubmitOptions): void {
  if (o.actor !== undefined && typeof o.actor !== "boolean") {
    throw new TypeError(`actor must be true or false, got ${typeof o.actor}`);
  }
  const n = o.actorRestarts;
  if (n !== undefined) {
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
      throw new TypeError(
        `actorRestarts must be a whole number >= 0 (how many times an actor is re-created on ` +
          `another worker when its worker dies), got ${typeof n === "number" ? n : typeof n}`,
      );
    }
    if (o.actor !== true) {
      throw new TypeError("actorRestarts needs actor: true: it supervises an actor's instance");
    }
  }
  if (o.actor === true && o.pure === true) {
    throw new TypeError(
      "an actor is never pure: each submit makes a new instance; leave pure out",
    );
  }
}

/** What a submit knows of its function: its name, and whether its source is a class. */
export interface SubmittedFunction {
  n: string;
  isClass: boolean;
}

/**
 * For a submit with `options`: the re-creations its actor may have (`ac` of its TaskSpec), or
 * undefined for an ordinary task. A class outside an actor submit, or anything but a class in
 * one, throws a TypeError that says what to do.
 */
export function actorRestartsOf(
  fn: SubmittedFunction,
  options: SubmitOptions,
): number | undefined {
  const name = fn.n || "(anonymous)";
  if (options.actor === true) {
    if (!fn.isClass) {
      throw new TypeError(
        `an actor is made from a class, and ${name} is a function: submit a class (\`class ` +
          `Counter { ... }\`) with client.with({ actor: true }), whose instance then lives on ` +
          `one worker`,
      );
    }
    return options.actorRestarts ?? 0;
  }
  if (fn.isClass) {
    throw new TypeError(
      `${name} is a class, which cannot run as a task: submit it with ` +
        `client.with({ actor: true }).submit(${fn.n || "TheClass"}, ...args) to keep an ` +
        `instance of it on a worker`,
    );
  }
  return undefined;
}
