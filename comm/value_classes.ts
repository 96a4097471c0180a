/**
 * Class instances among task arguments: an instance travels as a plain object of its own
 * fields, so a class with methods (or accessors) loses them on the way and the task fails later
 * with "p.norm is not a function". The encoding walk asks here about each object whose prototype
 * is neither Object.prototype nor one of the types it sends as they are (Date, Map, typed
 * arrays, Errors...): such a value is refused with a ClassInstanceError, or sent with a warning
 * given once per class. Browser-safe.
 *
 * @module
 */
import { ClassInstanceError } from "../core/errors.ts";
import { Fail } from "./value_boxes.ts";

/** What submit does with an argument that is an instance of a class with methods. */
export type ClassInstancePolicy = "error" | "warn";

/** A class whose instances lose something on the way: its name and what they lose. */
interface LossyClass {
  name: string;
  members: string[];
}

/** Per prototype: the class its instances lose members of, or null when they lose none. */
const lossy = new WeakMap<object, LossyClass | null>();
/** Prototypes already warned about. */
const warned = new WeakSet<object>();

/** The methods and accessors of a prototype chain up to Object.prototype (null: none). */
function lossyClassOf(proto: object): LossyClass | null {
  const known = lossy.get(proto);
  if (known !== undefined) return known;
  const members: string[] = [];
  for (let p: object | null = proto; p !== null && p !== Object.prototype;) {
    for (const k of Reflect.ownKeys(p)) {
      if (k === "constructor") continue;
      const d = Object.getOwnPropertyDescriptor(p, k)!;
      if (typeof d.value !== "function" && d.get === undefined && d.set === undefined) continue;
      const name = typeof k === "symbol" ? `[${k.description ?? "symbol"}]` : k;
      if (!members.includes(name)) members.push(name);
    }
    p = Object.getPrototypeOf(p);
  }
  const ctor = (proto as { constructor?: unknown }).constructor;
  const name = typeof ctor === "function" && ctor.name ? ctor.name : "(anonymous class)";
  const found = members.length > 0 ? { name, members } : null;
  lossy.set(proto, found);
  return found;
}

/** How a class and what its instances lose read in messages. */
function described(c: LossyClass): string {
  const shown = c.members.slice(0, 3).join(", ") + (c.members.length > 3 ? ", ..." : "");
  return `an instance of class ${c.name}, whose methods (${shown}) do not travel with it`;
}

/**
 * Checks an object about to be sent as its own fields: throws a Fail that makes a
 * ClassInstanceError when its class has methods (policy "error"), or warns once per class
 * ("warn"). `path` names the argument, for the warning only (a Fail collects its own path).
 */
export function checkClassInstance(
  o: object,
  policy: ClassInstancePolicy,
  path: () => string,
): void {
  const proto = Object.getPrototypeOf(o);
  if (proto === null || proto === Object.prototype) return;
  const c = lossyClassOf(proto);
  if (c === null) return;
  if (policy === "error") {
    throw new Fail(
      `is ${described(c)}: the task would get a plain object of its fields, and calling ` +
        `${c.members[0]} on it there fails. Pass plain data instead, or create the ${c.name} ` +
        `inside the task from a preloaded or imported module; to send its fields anyway, ` +
        `set the Client option classInstances: "warn"`,
      undefined,
      ClassInstanceError,
    );
  }
  if (warned.has(proto)) return;
  warned.add(proto);
  console.warn(
    `dtask: ${path()} is ${described(c)}: the task gets a plain object of its fields ` +
      `(classInstances: "warn"; said once per class)`,
  );
}
