/**
 * Relations stored in one field: null, the single member, or a real Set from the second member
 * on. Most task relations (who wants a task, what it waits on, its dependents and waiters, who
 * holds it) have a single member, and a JavaScript Set costs ~150 bytes even then. `TaskState`
 * keeps who-wants and waiting-on in fields of its own with the helpers below; `SmallSet` wraps one
 * such field for the other relations. Members are never null and never Sets.
 */

/** A relation in one field. */
export type Inline<T> = T | Set<T> | null;

const NONE: readonly never[] = Object.freeze([]);

/** Number of members. */
export function inlineSize<T>(v: Inline<T>): number {
  return v === null ? 0 : v instanceof Set ? v.size : 1;
}

/** Whether `x` is a member. */
export function inlineHas<T>(v: Inline<T>, x: T): boolean {
  return v instanceof Set ? v.has(x) : v === x;
}

/** The relation with `x` added (a Set is changed in place). */
export function inlineAdd<T>(v: Inline<T>, x: T): Inline<T> {
  if (v === null) return x;
  if (v instanceof Set) return v.add(x);
  return v === x ? v : new Set([v, x]);
}

/** The relation without `x` (a Set is changed in place); check `inlineHas` first if it matters. */
export function inlineDelete<T>(v: Inline<T>, x: T): Inline<T> {
  if (v instanceof Set) {
    v.delete(x);
    return v;
  }
  return v === x ? null : v;
}

/** The members, in order of addition (deleting meanwhile is safe). */
export function inlineValues<T>(v: Inline<T>): Iterable<T> {
  return v === null ? NONE : v instanceof Set ? v : [v];
}

/** A Set-like collection that is cheap while it holds at most one element. */
export class SmallSet<T> implements Iterable<T> {
  #v: Inline<T> = null;

  constructor(items?: Iterable<T>) {
    if (items) { for (const x of items) this.add(x); }
  }

  /** Number of elements. */
  get size(): number {
    return inlineSize(this.#v);
  }

  /** Whether `x` is in the set. */
  has(x: T): boolean {
    return inlineHas(this.#v, x);
  }

  /** Adds `x`; returns the set. */
  add(x: T): this {
    this.#v = inlineAdd(this.#v, x);
    return this;
  }

  /** Removes `x`; true if it was there. */
  delete(x: T): boolean {
    if (!inlineHas(this.#v, x)) return false;
    this.#v = inlineDelete(this.#v, x);
    return true;
  }

  /** Removes every element. */
  clear(): void {
    this.#v = null;
  }

  /** The elements (deleting during iteration is safe). */
  [Symbol.iterator](): IterableIterator<T> {
    // an array's or a Set's iterator: iterable itself
    return inlineValues(this.#v)[Symbol.iterator]() as IterableIterator<T>;
  }

  /** The elements. */
  values(): IterableIterator<T> {
    return this[Symbol.iterator]();
  }
}
