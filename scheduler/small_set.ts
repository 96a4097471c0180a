/**
 * A set that stores one element inline and becomes a real Set from the second on: most task
 * relations (a task's dependents, waiters, who holds it) have a single member, and a JavaScript
 * Set costs ~150 bytes even then. (Who wants a task and what it waits on are kept the same way
 * in the TaskState itself, which saves the SmallSet too.)
 */
const EMPTY: unknown = Symbol("empty");

/** A Set-like collection that is cheap while it holds at most one element (never a Set itself). */
export class SmallSet<T> implements Iterable<T> {
  // one field, not two: EMPTY, the single element, or a Set of two or more
  #v: T | Set<T> | typeof EMPTY = EMPTY as typeof EMPTY;

  constructor(items?: Iterable<T>) {
    if (items) { for (const x of items) this.add(x); }
  }

  /** Number of elements. */
  get size(): number {
    const v = this.#v;
    return v instanceof Set ? v.size : v === EMPTY ? 0 : 1;
  }

  /** Whether `x` is in the set. */
  has(x: T): boolean {
    const v = this.#v;
    return v instanceof Set ? v.has(x) : v === x && v !== EMPTY;
  }

  /** Adds `x`; returns the set. */
  add(x: T): this {
    const v = this.#v;
    if (v instanceof Set) v.add(x);
    else if (v === EMPTY) this.#v = x;
    else if (v !== x) this.#v = new Set([v as T, x]);
    return this;
  }

  /** Removes `x`; true if it was there. */
  delete(x: T): boolean {
    const v = this.#v;
    if (v instanceof Set) return v.delete(x);
    if (v === EMPTY || v !== x) return false;
    this.#v = EMPTY as typeof EMPTY;
    return true;
  }

  /** Removes every element. */
  clear(): void {
    this.#v = EMPTY as typeof EMPTY;
  }

  /** The elements (deleting during iteration is safe). */
  *[Symbol.iterator](): IterableIterator<T> {
    const v = this.#v;
    if (v instanceof Set) yield* v;
    else if (v !== EMPTY) yield v as T;
  }

  /** The elements. */
  values(): IterableIterator<T> {
    return this[Symbol.iterator]();
  }
}
