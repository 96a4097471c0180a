/**
 * A bounded history: the newest items of a stream, oldest first, in a ring allocated once full
 * (the scheduler's event log and task stream, a worker's log lines).
 *
 * @module
 */

/**
 * A fixed-capacity ring: the newest `capacity` items, oldest first.
 *
 * @example
 * ```ts ignore
 * const r = new Ring<number>(2);
 * r.push(1); r.push(2); r.push(3);
 * r.toArray(); // [2, 3]
 * ```
 */
export class Ring<T> {
  #items: T[] = [];
  #head = 0; // index of the oldest item once full

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    if (this.#items.length < this.capacity) this.#items.push(item);
    else {
      this.#items[this.#head] = item;
      this.#head = (this.#head + 1) % this.capacity;
    }
  }

  /** The items, oldest first. */
  toArray(): T[] {
    const items = this.#items;
    return this.#head === 0 ? items.slice() : [
      ...items.slice(this.#head),
      ...items.slice(0, this.#head),
    ];
  }
}
