/**
 * A Client's submissions: `submit`, `map` and `with`'s options, and the queue they fill —
 * tasks, wanted keys, functions and releases — flushed to the scheduler as `update-graph`
 * and `release-keys` messages in the order they were made. Arguments holding an Arrow Table met
 * before apache-arrow is loaded in the client wait for its import: the queue's messages are held
 * (in order) until the Table's bytes are written, and such a task's key is random unless given.
 */
import type { ClientToScheduler, FunctionDef, TaskSpec } from "../comm/protocol.ts";
import { encodeValue, fillLateTables, type LateTable, type Payload } from "../comm/serialize.ts";
import { pureKey, randomKey } from "../core/keys.ts";
import { Future, KeyState } from "./future.ts";
import { fifoTimeoutMs } from "./fifo.ts";
import { fnDef, fnInfo } from "./functions.ts";
import { specOptions, type TaskOptions } from "./host.ts";
import { PlainBlock } from "./plain_block.ts";
import type { SubmitOptions } from "./options.ts";
import { actorRestartsOf, checkActorOptions } from "./actor_submit.ts";

/** The lineage of a task without dependencies (shared, never written). */
const NO_LINEAGE: KeyState[] = [];

/** The fifoTimeout (ms) of submissions that set none. */
const DEFAULT_FIFO = fifoTimeoutMs(undefined);

/** Tasks per `update-graph`: a big map streams to the scheduler in pieces it handles as they come. */
const GRAPH_CHUNK = 2000;

/** What the queue needs from its Client. */
export interface SubmitHost {
  /** The Client: the owner of the Futures a submission may refer to. */
  readonly client: unknown;
  /** A new Future of `ks` for the Client (one more reference). */
  future(ks: KeyState): Future<unknown>;
  /** The Client's key records (the same Map for the Client's lifetime). */
  readonly keys: Map<string, KeyState>;
  /** Throws CommClosedError when the client is closed. */
  checkOpen(): void;
  /** The key of the task whose code runs now (a Client made in a task), if any. */
  taskKey(): string | undefined;
  /** Sends on the current connection, at once. */
  send(msg: ClientToScheduler): void;
  /** Called once in a turn that queued something; the queue must be flushed soon after. */
  readonly flushDue: () => void;
  /** What to do with arguments that are instances of classes with methods. */
  readonly classInstances: "error" | "warn";
}

/** `client.with`'s checks; the options with fifoTimeout in ms. */
export function withOptions(options: SubmitOptions): SubmitOptions {
  checkAllowOtherWorkers(options);
  checkActorOptions(options);
  if (options.fifoTimeout !== undefined) {
    options = { ...options, fifoTimeout: fifoTimeoutMs(options.fifoTimeout) };
  }
  return options;
}

/** Checks the Client option `classInstances` ("error", "warn" or left out). */
export function checkClassInstances(v: unknown): void {
  if (v !== undefined && v !== "error" && v !== "warn") {
    throw new TypeError(`classInstances must be "error" or "warn", got ${JSON.stringify(v)}`);
  }
}

/** Dask's checks: allowOtherWorkers is a boolean, and only means something with workers. */
function checkAllowOtherWorkers(o: SubmitOptions): void {
  const a = o.allowOtherWorkers;
  if (a === undefined) return;
  if (typeof a !== "boolean") {
    throw new TypeError(`allowOtherWorkers must be true or false, got ${typeof a}`);
  }
  if (a && (o.workers === undefined || o.workers.length === 0)) {
    throw new TypeError(
      "allowOtherWorkers: true needs workers: name the workers the task should prefer",
    );
  }
}

/** Whether a task goes in the `plain` columns: no options and no out-of-band frames. */
function isPlain(s: TaskSpec): boolean {
  return s.a.frames.length === 0 && s.p === undefined && s.r === undefined &&
    s.w === undefined && s.rs === undefined && s.ps === undefined && s.ac === undefined;
}

/** A Client's submissions and its queue to the scheduler. */
export class Submitter {
  readonly #h: SubmitHost;
  /** Function hashes sent on the current connection. */
  readonly sentFns = new Set<string>();
  /** Every function this client sent, by hash (sent again after a reconnect). */
  readonly fnDefs = new Map<string, FunctionDef>();
  #tasks: TaskSpec[] = [];
  /** Queued option-less tasks (sent as columns); a message carries these or `#tasks`, in order. */
  #plain: PlainBlock | null = null;
  #wanted: string[] = [];
  #fns: FunctionDef[] = [];
  /** fifoTimeout (ms) of the queued submissions. */
  #fifo = DEFAULT_FIFO;
  #released: string[] = [];
  #flushQueued = false;
  /** Arrow Tables met (unloaded) by the last encoding: their bytes come once it is imported. */
  readonly #lateTables: LateTable[] = [];
  /** Tasks whose Arrow Tables are being written: the messages wait for them, in order. */
  #writing = 0;
  #held: ClientToScheduler[] = [];

  constructor(host: SubmitHost) {
    this.#h = host;
  }

  /** What to do with arguments that are instances of classes with methods. */
  get classInstances(): "error" | "warn" {
    return this.#h.classInstances;
  }

  /** Tasks queued and not yet sent. */
  get queued(): number {
    return this.#tasks.length + (this.#plain?.size ?? 0);
  }

  /** Queued tasks a graph's first tasks would share a message with (plain ones go first). */
  get queuedSpecs(): number {
    return this.#tasks.length;
  }

  /** `client.map`: one task per element of the zipped iterables. */
  map(
    fn: (...args: any[]) => unknown,
    iterables: Iterable<unknown>[],
    options: SubmitOptions,
  ): Future<any>[] {
    if (iterables.length === 0) throw new TypeError("map needs at least one iterable");
    if (options.key !== undefined) throw new TypeError("map takes no single key; use submit");
    const its = iterables.map((x) => {
      if (x == null || typeof (x as Iterable<unknown>)[Symbol.iterator] !== "function") {
        throw new TypeError("map's arguments after the function must be iterables");
      }
      return (x as Iterable<unknown>)[Symbol.iterator]();
    });
    const out: Future<any>[] = [];
    for (;;) {
      const args: unknown[] = [];
      for (const it of its) {
        const r = it.next();
        if (r.done) return out;
        args.push(r.value);
      }
      out.push(this.submit(fn, args, options));
    }
  }

  /** `client.submit`: queues `fn(...args)` (unless its key is held already); its Future. */
  submit(fn: (...args: any[]) => unknown, args: unknown[], options: SubmitOptions): Future<any> {
    const h = this.#h;
    h.checkOpen();
    const client = h.client;
    const info = fnInfo(fn);
    // an actor (a class) is a new instance each time: never pure
    const actor = info.isClass || options.actor ? actorRestartsOf(info, options) : undefined;
    const deps = new Set<string>();
    this.#lateTables.length = 0; // what a failed encoding left
    const payload = encodeValue(args, {
      refKey: (v) => (v instanceof Future && v.client === client ? v.key : undefined),
      deps,
      path: "arguments",
      classInstances: h.classInstances,
      lateTables: this.#lateTables,
    });
    const tables = this.#tablesOf(payload);
    const key = options.key ??
      (options.pure === false || tables || actor !== undefined
        ? randomKey(info.prefix) // the content of a Table not written yet cannot be hashed
        : pureKey(info.prefix, info.h, payload));
    let ks = h.keys.get(key);
    if (!ks) {
      ks = new KeyState(key);
      h.keys.set(key, ks);
      ks.attach();
      const fifo = (options.fifoTimeout ?? DEFAULT_FIFO) as number;
      if (fifo !== this.#fifo) { // one fifoTimeout per update-graph
        this.flush();
        this.#fifo = fifo;
      }
      const spec = specOptions({ k: key, f: info.h, a: payload, d: [...deps] }, options);
      if (actor !== undefined) spec.ac = actor;
      // submitted from inside a task: it runs before that task's waiting siblings
      const parent = h.taskKey();
      if (parent !== undefined) spec.ps = parent;
      if (isPlain(spec)) {
        if (this.#tasks.length) this.flushGraph(); // one kind per message, in submission order
        (this.#plain ??= new PlainBlock()).add(key, info.h, payload.header, spec.d);
      } else {
        if (this.#plain) this.flushGraph();
        this.#tasks.push(spec);
        this.#wanted.push(key);
      }
      let lineage: KeyState[] = NO_LINEAGE; // most tasks have no dependency: no array each
      for (const d of deps) {
        const dep = h.keys.get(d);
        if (dep) (lineage === NO_LINEAGE ? (lineage = []) : lineage).push(dep);
      }
      ks.keepSpec(spec, lineage);
      if (tables) this.#holdFor(tables, spec, ks);
      if (!this.sentFns.has(info.h)) {
        this.sentFns.add(info.h);
        const def = fnDef(info);
        this.#fns.push(def);
        this.fnDefs.set(info.h, def);
      }
      if (this.queued >= GRAPH_CHUNK) this.flushGraph();
      else this.#scheduleFlush();
    }
    return h.future(ks);
  }

  /** Queues a graph's task `key` = `fn(...args)` (ClientHost.enqueue). */
  enqueue(
    key: string,
    fn: (...args: any[]) => unknown,
    args: Payload,
    deps: string[],
    options: TaskOptions,
    want: boolean,
    tables?: Promise<void>,
  ): void {
    const info = fnInfo(fn);
    if (this.#fifo !== DEFAULT_FIFO) { // graphs use the default fifoTimeout
      this.flush();
      this.#fifo = DEFAULT_FIFO;
    }
    if (this.#plain) this.flushGraph();
    const spec = specOptions({ k: key, f: info.h, a: args, d: deps }, options);
    this.#tasks.push(spec);
    if (want) this.#wanted.push(key);
    if (tables) this.#holdFor(tables, spec, this.#h.keys.get(key));
    if (!this.sentFns.has(info.h)) {
      this.sentFns.add(info.h);
      this.#fns.push(fnDef(info));
    }
    if (this.#tasks.length >= GRAPH_CHUNK) this.flushGraph();
    else this.#scheduleFlush();
  }

  /** Queues `key` as wanted by this client (a key the scheduler knows; no task). */
  want(key: string): void {
    this.#wanted.push(key);
  }

  /** This client no longer wants `keys`; sent after the queued tasks (ClientHost.unwant). */
  unwant(keys: string[]): void {
    this.flushGraph();
    this.#released.push(...keys);
    this.#scheduleFlush();
  }

  /** This client released its last Future of `key`; sent after the queued tasks. */
  release(key: string): void {
    if (this.queued) this.flushGraph(); // the scheduler must see the key before its release
    this.#released.push(key);
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    queueMicrotask(this.#h.flushDue);
  }

  /** Sends queued submissions, then queued releases, preserving their order. */
  flush(): void {
    this.#flushQueued = false;
    this.flushGraph();
    if (this.#released.length) {
      this.#send({ op: "release-keys", keys: this.#released });
      this.#released = [];
    }
  }

  /** Sends the queued submissions as one update-graph. */
  flushGraph(): void {
    if (!this.#tasks.length && !this.#wanted.length && !this.#plain) return;
    this.#send({
      op: "update-graph",
      tasks: this.#tasks,
      plain: this.#plain?.columns(),
      wanted: this.#wanted,
      functions: this.#fns.length ? this.#fns : undefined,
      fifo: this.#fifo === DEFAULT_FIFO ? undefined : this.#fifo,
    });
    this.#tasks = [];
    this.#plain = null;
    this.#wanted = [];
    this.#fns = [];
  }

  /** Writes the Arrow Tables the last encoding met unloaded into `p`; undefined when none. */
  #tablesOf(p: Payload): Promise<void> | undefined {
    if (this.#lateTables.length === 0) return undefined;
    const tables = fillLateTables(p.frames, this.#lateTables.splice(0));
    tables.catch(() => {}); // handled where the task is queued (or not needed)
    return tables;
  }

  #send(msg: ClientToScheduler): void {
    if (this.#writing) this.#held.push(msg);
    else this.#h.send(msg);
  }

  /**
   * Holds the messages until task `spec`'s Arrow Tables are written; when they cannot be, the
   * task is taken out of them and its key (`ks`) errs.
   */
  #holdFor(tables: Promise<void>, spec: TaskSpec, ks: KeyState | undefined): void {
    this.#writing++;
    tables.catch((e) => {
      this.#drop(spec);
      ks?.settle("error", e instanceof Error ? e : new Error(String(e)));
    }).finally(() => {
      if (--this.#writing) return;
      const held = this.#held;
      this.#held = [];
      try {
        for (const m of held) this.#h.send(m);
      } catch { /* the client closed meanwhile: nothing is waiting for them */ }
    });
  }

  /** Takes task `spec` out of the queued and held messages. */
  #drop(spec: TaskSpec): void {
    const out = (m: { tasks: TaskSpec[]; wanted: string[] }) => {
      m.tasks = m.tasks.filter((t) => t !== spec);
      m.wanted = m.wanted.filter((k) => k !== spec.k);
    };
    const queued = { tasks: this.#tasks, wanted: this.#wanted };
    out(queued);
    this.#tasks = queued.tasks;
    this.#wanted = queued.wanted;
    for (const m of this.#held) if (m.op === "update-graph") out(m);
  }
}
