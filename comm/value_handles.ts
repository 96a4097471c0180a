/**
 * Handles among values: an object that stands for something kept elsewhere (a Lock, a Queue, an
 * actor on a worker) travels as its kind's tag and a little data, and is revived as a new handle
 * at the other end, bound to the client there. A handle's class marks its instances with
 * {@link HANDLE} and registers its reviver with {@link registerHandle} when its module loads.
 * Decoding a handle whose module is not loaded in this realm fails and notes it
 * (`handleMissed`), so that a caller (a worker thread) can load the client modules and decode
 * again. Browser-safe.
 *
 * @module
 */
import { SerializationError } from "../core/errors.ts";

/**
 * The method a handle travels by: returns its kind's tag and the data its reviver takes (any
 * encodable value).
 */
export const HANDLE: unique symbol = Symbol.for("dtask.handle") as never;

/** An object that travels as a handle. */
export interface Travelling {
  /** Its kind's tag and the data that revives it. */
  [HANDLE](): [tag: string, data: unknown];
}

/** The box a handle travels in: its tag and data. */
export class HandleBox {
  constructor(readonly tag: string, readonly data: unknown) {}
}

const revivers = new Map<string, (data: unknown) => unknown>();
let missed = false;

/**
 * Registers how handles of kind `tag` are revived from their data (once per kind, when its
 * module loads; a second registration replaces the first).
 *
 * @example
 * ```ts ignore
 * class Lock implements Travelling {
 *   constructor(readonly name: string) {}
 *   [HANDLE](): [string, unknown] { return ["lock", this.name]; }
 * }
 * registerHandle("lock", (name) => new Lock(name as string));
 * ```
 */
export function registerHandle(tag: string, revive: (data: unknown) => unknown): void {
  revivers.set(tag, revive);
}

/** Whether `o` travels as a handle. */
export function isTravelling(o: object): o is Travelling {
  return typeof (o as Partial<Travelling>)[HANDLE] === "function";
}

/** The handle's box (what the encoder packs in its place). */
export function toHandleBox(o: Travelling): HandleBox {
  const [tag, data] = o[HANDLE]();
  return new HandleBox(tag, data);
}

/** Revives a handle from its tag and data (decoding); fails when its kind is not registered. */
export function reviveHandle(tag: string, data: unknown): unknown {
  const revive = revivers.get(tag);
  if (revive === undefined) {
    missed = true;
    throw new SerializationError(
      `the value holds a dtask ${tag} handle, and the module that revives it is not loaded ` +
        `here: import dtask's mod.ts (or client/mod.ts) before decoding it`,
    );
  }
  return revive(data);
}

/** Forgets that a handle was met unregistered (before a decode that may load its module). */
export function resetHandleMissed(): void {
  missed = false;
}

/** Whether the last decode met a handle whose kind is not registered in this realm. */
export function handleMissed(): boolean {
  return missed;
}
