/**
 * The builder of an update-graph's `plain` columns: option-less tasks as the scheduler reads
 * them without an object per task (comm/protocol.ts, PlainTasks). Browser-safe.
 *
 * @module
 */
import type { PlainTasks } from "../comm/protocol.ts";
import { Payload } from "../comm/serialize.ts";

const NO_FRAMES: Uint8Array[] = [];

/** Option-less tasks queued for one update-graph, column by column. */
export class PlainBlock {
  #k: string[] = [];
  #f: string[] = [];
  #fIndex = new Map<string, number>();
  #fi: number[] | null = null;
  #args: Uint8Array[] = [];
  #ae: number[] = [];
  #bytes = 0;
  #d: string[] = [];
  #dIndex = new Map<string, number>();
  #dc: number[] | null = null;
  #di: number[] = [];

  /** Tasks queued. */
  get size(): number {
    return this.#k.length;
  }

  /** Queues task `key` = function `fn`(arguments `args`, no frames) on dependencies `deps`. */
  add(key: string, fn: string, args: Uint8Array, deps: Iterable<string>): void {
    const i = this.#k.length;
    this.#k.push(key);
    let f = this.#fIndex.get(fn);
    if (f === undefined) this.#fIndex.set(fn, f = this.#f.push(fn) - 1);
    if (f !== 0 && this.#fi === null) this.#fi = new Array<number>(i).fill(0);
    this.#fi?.push(f);
    this.#args.push(args);
    this.#ae.push(this.#bytes += args.length);
    let count = 0;
    for (const dk of deps) {
      let d = this.#dIndex.get(dk);
      if (d === undefined) this.#dIndex.set(dk, d = this.#d.push(dk) - 1);
      this.#di.push(d);
      count++;
    }
    if (count !== 0 && this.#dc === null) this.#dc = new Array<number>(i).fill(0);
    this.#dc?.push(count);
  }

  /** The columns of every task queued (the block is then spent). */
  columns(): PlainTasks {
    const a = new Uint8Array(this.#bytes);
    let at = 0;
    for (const b of this.#args) {
      a.set(b, at);
      at += b.length;
    }
    const out: PlainTasks = {
      k: this.#k,
      f: this.#f,
      a: new Payload(a, NO_FRAMES),
      ae: this.#ae,
      d: this.#d,
    };
    if (this.#fi) out.fi = this.#fi;
    if (this.#dc) {
      out.dc = this.#dc;
      out.di = this.#di;
    }
    return out;
  }
}
