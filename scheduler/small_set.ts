/**
 * A set that stores one element inline and becomes a real Set from the second on: most task
 * relations (who wants a key, what a task waits on, who holds it) have a single member, and a
 * JavaScript Set costs ~150 bytes even then.
 */
const EMPTY: unknown = Symbol("empty");

/** A Set-like collection that is cheap while it holds at most one element. */
export class SmallSet<T> implements Iterable<T> {
  #one: T | typeof EMPTY = EMPTY as typeof EMPTY;
  #many: Set<T> | null = null;

  constructor(items?: Iterable<T>) {
    if (items) { for (const x of items) this.add(x); }
  }

  /** Number of elements. */
  get size(): number {
    return this.#many ? this.#many.size : this.#one === EMPTY ? 0 : 1;
  }

  /** Whether `x` is in the set. */
  has(x: T): boolean {
    return this.#many ? this.#many.has(x) : this.#one === x && this.#one !== EMPTY;
  }

  /** Adds `x`; returns the set. */
  add(x: T): this {
    if (this.#many) this.#many.add(x);
    else if (this.#one === EMPTY) this.#one = x;
    else if (this.#one !== x) {
      this.#many = new Set([this.#one as T, x]);
      this.#one = EMPTY as typeof EMPTY;
    }
    return this;
  }

  /** Removes `x`; true if it was there. */
  delete(x: T): boolean {
    if (this.#many) return this.#many.delete(x);
    if (this.#one === EMPTY || this.#one !== x) return false;
    this.#one = EMPTY as typeof EMPTY;
    return true;
  }

  /** Removes every element. */
  clear(): void {
    this.#one = EMPTY as typeof EMPTY;
    this.#many = null;
  }

  /** The elements (deleting during iteration is safe). */
  *[Symbol.iterator](): IterableIterator<T> {
    if (this.#many) {
      yield* this.#many;
      return;
    }
    if (this.#one !== EMPTY) yield this.#one as T;
  }

  /** The elements. */
  values(): IterableIterator<T> {
    return this[Symbol.iterator]();
  }
}
