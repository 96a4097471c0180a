/**
 * Task graphs: `{ key: task(fn, ...args) | literal }`, with `ref("key")` inside the
 * arguments for a dependency on another graph key or on a key this client already holds.
 * Checked (unknown refs, cycles) and ordered dependencies first, before anything is sent.
 * Arrow Tables met before apache-arrow is loaded are written once it is (see submit.ts).
 */
import { encodeValue, fillLateTables, type LateTable, type Payload } from "../comm/serialize.ts";
import { CancelledError, DtaskError, KeyError } from "../core/errors.ts";
import { Future, keyStateOf } from "./future.ts";
import type { ClientHost, TaskOptions } from "./host.ts";

/** Tasks per `update-graph` (submit.ts's GRAPH_CHUNK): a bigger graph goes in several. */
const GRAPH_CHUNK = 2000;

/** One task of a graph: `fn(...args)`, made with `task(fn, ...args)`. */
export class GraphTask {
  /** Checks that `fn` is a function. */
  constructor(
    /** The function the task runs. */
    readonly fn: (...args: any[]) => unknown,
    /** Its arguments; `ref(key)` among them stands for that key's value. */
    readonly args: unknown[],
  ) {
    if (typeof fn !== "function") {
      throw new TypeError(`task(fn, ...args) needs a function first, got ${typeof fn}`);
    }
  }
}

/** A dependency on a key inside a graph's arguments, made with `ref(key)`. */
export class GraphRef {
  /** Checks that `key` is a string. */
  constructor(
    /** The key depended on. */
    readonly key: string,
  ) {
    if (typeof key !== "string") {
      throw new TypeError(`ref(key) needs a string key, got ${typeof key}`);
    }
  }
}

/** A task for a graph: `fn(...args)`; `ref("k")` in `args` stands for key k's value. */
export function task<A extends unknown[]>(
  fn: (...args: A) => unknown,
  ...args: unknown[]
): GraphTask {
  return new GraphTask(fn as (...args: any[]) => unknown, args);
}

/** A dependency on graph key `key` (or a key this client holds a Future for). */
export function ref(key: string): GraphRef {
  return new GraphRef(key);
}

/** A task graph: each key maps to a `task(...)` or to a literal value (refs inside allowed). */
export type Graph = Record<string, unknown>;

/** One graph entry, ready to submit: its key, function, encoded arguments, dependencies. */
export interface GraphEntry {
  key: string;
  fn: (...args: any[]) => unknown;
  args: Payload;
  /** The Arrow Tables still being written into `args` (apache-arrow was not loaded yet). */
  tables?: Promise<void>;
  deps: string[];
}

/** A literal graph value is computed as `literal(value)`. */
const literal = function literal(x: unknown): unknown {
  return x;
};

/**
 * Encodes every entry of `graph`, checks it, and orders it so that each entry comes after the
 * graph entries it depends on. `held(key)` says whether a key outside the graph is one this
 * client holds (a ref may name it), and `refKey` maps other objects (Futures) to their keys.
 */
export function planGraph(
  graph: Graph,
  held: (key: string) => boolean,
  refKey: (v: object) => string | undefined,
  classInstances?: "error" | "warn",
): GraphEntry[] {
  if (typeof graph !== "object" || graph === null || Array.isArray(graph)) {
    throw new TypeError("a task graph is a plain object: { key: task(fn, ...args) | value }");
  }
  const entries = new Map<string, GraphEntry>();
  const encodeRef = (v: object) => v instanceof GraphRef ? v.key : refKey(v);
  const late: LateTable[] = [];
  for (const key of Object.keys(graph)) {
    const v = graph[key];
    const fn = v instanceof GraphTask ? v.fn : literal;
    const args = v instanceof GraphTask ? v.args : [v];
    const deps = new Set<string>();
    const payload = encodeValue(args, {
      refKey: encodeRef,
      deps,
      path: `graph key ${key}:`,
      classInstances,
      lateTables: late,
    });
    let tables: Promise<void> | undefined;
    if (late.length) {
      tables = fillLateTables(payload.frames, late.splice(0));
      tables.catch(() => {}); // handled where the task is queued (or not needed)
    }
    for (const d of deps) {
      if (d === key) {
        throw new DtaskError(
          `task graph has a cycle: ${key} depends on itself; a task cannot need its own value`,
        );
      }
      if (!(d in graph) && !held(d)) {
        throw new KeyError(
          `graph key ${key} refers to ${JSON.stringify(d)}, which is neither a key of the ` +
            `graph nor a key this client holds a Future for; add it to the graph or pass its Future`,
        );
      }
    }
    entries.set(key, { key, fn, args: payload, deps: [...deps], tables });
  }
  return topoOrder(entries);
}

/**
 * Dependencies first, and depth first: a post-order walk from each sink (a key no other graph
 * key depends on), so one output's inputs are all submitted, and so prioritised, before the next
 * output's (the intent of Dask's `dask.order`). A cycle throws naming its keys.
 */
function topoOrder(entries: Map<string, GraphEntry>): GraphEntry[] {
  const out: GraphEntry[] = [];
  const state = new Map<string, 1 | 2>(); // 1: on the path, 2: done
  const hasDependent = new Set<string>();
  for (const e of entries.values()) for (const d of e.deps) hasDependent.add(d);
  const sinks = [...entries.keys()].filter((k) => !hasDependent.has(k));
  // keys on or behind a cycle may have no sink above them: the second pass finds them
  for (const start of [...sinks, ...entries.keys()]) {
    if (state.has(start)) continue;
    // iterative DFS: [key, index of the next dependency to visit]
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const e = entries.get(top[0])!;
      if (top[1] < e.deps.length) {
        const d = e.deps[top[1]++];
        if (!entries.has(d)) continue; // a held key outside the graph
        const s = state.get(d);
        if (s === 2) continue;
        if (s === 1) {
          const from = stack.findIndex(([k]) => k === d);
          const cycle = [...stack.slice(from).map(([k]) => k), d].join(" -> ");
          throw new DtaskError(
            `task graph has a cycle: ${cycle}; a task cannot need its own value, directly or ` +
              `through other tasks`,
          );
        }
        state.set(d, 1);
        stack.push([d, 0]);
      } else {
        state.set(top[0], 2);
        out.push(e);
        stack.pop();
      }
    }
  }
  return out;
}

/** Keys to compute: one key, or arrays of keys nested as deep as you like (Dask's get). */
export type KeyTree = string | readonly KeyTree[];

/** Every key of a key tree, in order. */
export function flattenKeys(keys: KeyTree, out: string[] = []): string[] {
  if (typeof keys === "string") out.push(keys);
  else if (Array.isArray(keys)) { for (const k of keys) flattenKeys(k, out); }
  else throw new TypeError(`keys must be a string or an array of keys, got ${typeof keys}`);
  return out;
}

/** The key tree with each key replaced by `f(key)`. */
export function mapKeys<T>(keys: KeyTree, f: (key: string) => T): T | unknown[] {
  return typeof keys === "string" ? f(keys) : keys.map((k) => mapKeys(k, f));
}

/** Futures in the shape of a key tree. */
type FutureTree = Future<any> | FutureTree[];

/** client.compute: see there. */
export function compute(
  host: ClientHost,
  graph: Graph,
  keys: KeyTree | undefined,
  options: TaskOptions,
): FutureTree | Record<string, Future<any>> {
  host.checkOpen();
  const refKey = (
    v: object,
  ) => (v instanceof Future && v.client === host.client ? v.key : undefined);
  const entries = planGraph(graph, (k) => host.key(k) !== undefined, refKey, host.classInstances);
  const asked = keys === undefined ? Object.keys(graph) : flattenKeys(keys);
  for (const k of asked) {
    if (!Object.hasOwn(graph, k) && host.key(k) === undefined) {
      throw new KeyError(
        `key ${JSON.stringify(k)} is not in the graph and this client holds no Future for it`,
      );
    }
  }
  const want = new Set(asked);
  // a graph that spans several update-graph chunks: its inner keys are wanted until the last
  // chunk is sent, so the scheduler does not forget them between chunks
  const chunked = entries.length + host.queued() > GRAPH_CHUNK;
  const inner: string[] = [];
  for (const e of entries) {
    if (host.key(e.key) !== undefined) continue; // the scheduler has it already
    const wanted = want.has(e.key);
    if (wanted) host.addKey(e.key);
    else if (chunked) inner.push(e.key);
    host.enqueue(e.key, e.fn, e.args, e.deps, options, wanted || chunked, e.tables);
  }
  if (inner.length) host.unwant(inner);
  const future = (k: string) => host.future(host.key(k)!);
  if (keys === undefined) return Object.fromEntries(asked.map((k) => [k, future(k)]));
  return mapKeys(keys, future) as FutureTree;
}

/** client.get: computes, waits for all (rejecting at the first error), gathers, releases. */
export async function get(
  host: ClientHost,
  graph: Graph,
  keys: KeyTree,
  options: TaskOptions,
): Promise<unknown> {
  const out = compute(host, graph, keys, options) as FutureTree;
  const list: Future[] = [];
  const collect = (x: FutureTree): void => {
    if (x instanceof Future) list.push(x);
    else for (const y of x) collect(y);
  };
  collect(out);
  try {
    await new Promise<void>((resolve, reject) => {
      let left = list.length;
      if (left === 0) resolve();
      for (const f of list) {
        keyStateOf(f).onSettled(() => {
          if (f.status !== "finished") {
            reject(keyStateOf(f).error ?? new CancelledError(`${f.key} was ${f.status}`));
          } else if (--left === 0) resolve();
        });
      }
    });
    return await host.gather(out);
  } finally {
    for (const f of list) f.release();
  }
}
