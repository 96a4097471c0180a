/**
 * A first-in first-out list with O(1) push and shift (an array and a head index, compacted as
 * the head moves on), for the values of a queue.
 *
 * @module
 */

/** A FIFO list. */
export class FifoList<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many values it holds. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Adds `v` at the end. */
  push(v: T): void {
    this.#items.push(v);
  }

  /** Removes and returns the first `n` values (all when fewer). */
  shift(n: number): T[] {
    const end = Math.min(this.#head + n, this.#items.length);
    const out = this.#items.slice(this.#head, end) as T[];
    this.#items.fill(undefined, this.#head, end);
    this.#head = end;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return out;
  }

  /** Every value, first to last. */
  values(): T[] {
    return this.#items.slice(this.#head) as T[];
  }
}
