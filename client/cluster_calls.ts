/**
 * Cluster-wide client calls: `run` / `runOnScheduler`, `replicate` / `rebalance`, published
 * datasets, the event log and topics, and the task stream. Browser-safe, like the Client.
 */
import type { Message, Requester, TopicEvent } from "../comm/protocol.ts";
import {
  decodeValue,
  decodeValueAsync,
  encodeValue,
  encodeValueSoon,
  Payload,
} from "../comm/serialize.ts";
import { type ErrorEnvelope, fromEnvelope } from "../core/errors.ts";
import { functionHash } from "../core/keys.ts";
import { checkFunctionSource } from "../core/function_source.ts";
import { type Future, keyStateOf } from "./future.ts";
import { futuresIn } from "./cancel.ts";
import { STREAM_KINDS } from "../comm/protocol/stream_kinds.ts";

/** What these calls need from their Client. */
export interface CallsClient {
  /** Sends a request after everything submitted so far; resolves with its reply. */
  request: Requester;
  /** Sends a request at once (queued submissions stay queued); resolves with its reply. */
  ask: Requester;
  /** The keys this client holds. */
  heldKeys(): string[];
  /** Sends a stream message after everything submitted so far. */
  send(msg: Message): void;
  /** The key a Future of this client stands for (undefined for anything else). */
  keyOf(v: object): string | undefined;
  /** New Futures of this client for keys the scheduler knows (released after use). */
  adopt(keys: string[]): Future[];
  /** Values of Futures, like `client.gather`. */
  gather(futures: Future[]): Promise<unknown[]>;
}

/** One event: [ms since the epoch, message]. */
export type TopicEventRecord = [number, unknown];

/** What a task-stream record did: Dask's `startstops` actions. */
export type TaskStreamAction = "compute" | "transfer" | "disk-write" | "disk-read";

/**
 * A finished task, or a worker's I/O (a fetch from a peer, a spill write or read back), as
 * Dask's task stream records it (times in ms since the epoch).
 */
export interface TaskStreamRecord {
  /** The task's key, or a label of the I/O (`transfer-3`: three values fetched at once). */
  key: string;
  /** The address of the worker that ran it, or that fetched, wrote or read. */
  worker: string;
  /** When it ran (ms since the epoch); a transfer's names the peer it came from (`source`). */
  startstops: { action: TaskStreamAction; start: number; stop: number; source?: string }[];
  /** Whether it finished ("OK") or erred. */
  status: "OK" | "error";
  /** What it did: "compute" for a task, else the I/O's action. */
  action: TaskStreamAction;
  /** Bytes: a task's result, or what the I/O moved. */
  nbytes: number;
}

function raise(e: ErrorEnvelope | undefined): void {
  if (e !== undefined) throw fromEnvelope(e);
}

function encodeRun(fn: (...args: any[]) => unknown, args: unknown[]) {
  if (typeof fn !== "function") {
    throw new TypeError(`the first argument must be a function, got ${typeof fn}`);
  }
  const { name, source } = checkFunctionSource(fn);
  const a = encodeValueSoon(args, { path: "arguments" });
  const def = { h: functionHash(source), n: name, s: source };
  // the request goes out at once (before later submissions) unless apache-arrow must load first
  return a instanceof Payload ? { fn: def, a } : a.then((a) => ({ fn: def, a }));
}

/** `client.run`: `fn(...args)` on every worker; the results by worker address. */
export async function run<R>(
  c: CallsClient,
  fn: (...args: any[]) => R,
  args: unknown[],
): Promise<Record<string, Awaited<R>>> {
  const call = encodeRun(fn, args);
  const r = await c.request({ op: "run", id: 0, ...call instanceof Promise ? await call : call });
  raise(r.e);
  const out: Record<string, Awaited<R>> = {};
  for (const [w, v] of Object.entries(r.results ?? {})) {
    out[w] = await decodeValueAsync(v) as Awaited<R>;
  }
  return out;
}

/** `client.runOnScheduler`: `fn(...args)` in the scheduler's process; its result. */
export async function runOnScheduler<R>(
  c: CallsClient,
  fn: (...args: any[]) => R,
  args: unknown[],
): Promise<Awaited<R>> {
  const call = encodeRun(fn, args);
  const r = await c.request({
    op: "run",
    id: 0,
    ...call instanceof Promise ? await call : call,
    scheduler: true,
  });
  raise(r.e);
  return await decodeValueAsync(r.v!) as Awaited<R>;
}

/** Waits until the Futures settle (errors are not raised here). */
async function settled(fs: Future[]): Promise<void> {
  await Promise.all(fs.map((f) => new Promise<void>((r) => keyStateOf(f).onSettled(r))));
}

/** `client.replicate`: copies of each finished Future's data on `n` workers (all by default). */
export async function replicate(
  c: CallsClient,
  futures: unknown,
  options: { n?: number } = {},
): Promise<void> {
  const n = options.n;
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) {
    throw new TypeError(`n must be a whole number of at least 1, got ${n}`);
  }
  const fs = futuresIn(futures);
  await settled(fs);
  const keys = fs.filter((f) => f.status === "finished").map((f) => f.key);
  if (!keys.length) return;
  raise((await c.request({ op: "replicate", id: 0, keys, n })).e);
}

/** `client.rebalance`: evens out the bytes the workers hold (of these Futures, or all data). */
export async function rebalance(c: CallsClient, futures?: unknown): Promise<void> {
  let keys: string[] | undefined;
  if (futures !== undefined) {
    const fs = futuresIn(futures);
    await settled(fs);
    keys = fs.filter((f) => f.status === "finished").map((f) => f.key);
  }
  raise((await c.request({ op: "rebalance", id: 0, keys })).e);
}

/** `client.publishDataset`: names a value (Futures inside stay alive while it is published). */
export async function publishDataset(
  c: CallsClient,
  name: string,
  value: unknown,
): Promise<void> {
  if (typeof name !== "string") throw new TypeError("a dataset name must be a string");
  const deps = new Set<string>();
  const soon = encodeValueSoon(value, { refKey: (x) => c.keyOf(x), deps, path: "dataset" });
  const v = soon instanceof Payload ? soon : await soon;
  const r = await c.request({ op: "publish-dataset", id: 0, name, v, keys: [...deps] });
  raise(r.e);
}

/** `client.getDataset`: the published value, Futures inside replaced by their values. */
export async function getDataset(
  c: CallsClient,
  name: string,
  options: { timeout?: number } = {},
): Promise<unknown> {
  const r = await c.request({
    op: "get-dataset",
    id: 0,
    name,
    timeout: options.timeout,
  });
  raise(r.e);
  const keys = r.keys ?? [];
  if (keys.length === 0) return await decodeValueAsync(r.v!);
  const fs = c.adopt(keys);
  try {
    const values = await c.gather(fs);
    const byKey = new Map(keys.map((k, i) => [k, values[i]]));
    return await decodeValueAsync(r.v!, (k) => byKey.get(k));
  } finally {
    for (const f of fs) f.release();
  }
}

/** `client.listDatasets`: names published. */
export async function listDatasets(c: CallsClient): Promise<string[]> {
  return (await c.request({ op: "list-datasets", id: 0 })).names;
}

/** `client.unpublishDataset`: drops the name (and the scheduler's hold on its data). */
export async function unpublishDataset(c: CallsClient, name: string): Promise<void> {
  raise((await c.request({ op: "unpublish-dataset", id: 0, name })).e);
}

/** `client.logEvent`: records `msg` under one topic or several. */
export function logEvent(c: CallsClient, topic: string | string[], msg: unknown): void {
  const topics = typeof topic === "string" ? [topic] : [...topic];
  if (!topics.every((t) => typeof t === "string")) {
    throw new TypeError("an event topic must be a string");
  }
  c.send({ op: "log-event", topics, msg: encodeValue(msg, { path: "event message" }) });
}

function decodeEvents(events: [number, Payload][]): TopicEventRecord[] {
  return events.map(([t, m]) => [t, decodeValue(m)]);
}

/** `client.getEvents`: a topic's events, or every topic's when `topic` is absent. */
export async function getEvents(
  c: CallsClient,
  topic?: string,
): Promise<TopicEventRecord[] | Record<string, TopicEventRecord[]>> {
  const r = await c.request({ op: "get-events", id: 0, topic });
  if (topic !== undefined) return decodeEvents(r.events[topic] ?? []);
  const out: Record<string, TopicEventRecord[]> = {};
  for (const [t, evs] of Object.entries(r.events)) out[t] = decodeEvents(evs);
  return out;
}

/** `client.getTaskStream`: tasks that finished since `start` (ms since the epoch). */
export async function getTaskStream(
  c: CallsClient,
  options: { start?: number } = {},
): Promise<TaskStreamRecord[]> {
  const r = await c.request({
    op: "get-task-stream",
    id: 0,
    start: options.start,
  });
  return r.keys.map((key, i) => {
    const kind = STREAM_KINDS[r.kind[i]] ?? "compute", source = r.sources[i];
    const action: TaskStreamAction = kind === "erred" ? "compute" : kind; // an erred compute
    const span = { action, start: r.starts[i], stop: r.stops[i] };
    return {
      key,
      worker: r.workers[i],
      startstops: [action === "transfer" ? { ...span, source } : span],
      status: r.ok[i] ? "OK" : "error",
      action,
      nbytes: r.nbytes[i],
    };
  });
}

/**
 * `client.getWorkerLogs`: the last log lines of `workers` (addresses or names; every worker when
 * absent) as Dask's `get_worker_logs`: `[level, message]` pairs by address, oldest first. A
 * worker that did not answer within 5 s is left out.
 */
export async function getWorkerLogs(
  c: CallsClient,
  workers?: string[],
): Promise<Record<string, [string, string][]>> {
  if (workers !== undefined && !workers.every((w) => typeof w === "string")) {
    throw new TypeError("getWorkerLogs takes worker addresses or names (strings)");
  }
  const r = await c.request({ op: "get-worker-logs", id: 0, workers });
  return r.logs;
}

/** Handlers of the topics a client subscribed to. */
export class Topics {
  readonly #handlers = new Map<string, (event: TopicEventRecord) => unknown>();

  /** `client.subscribeTopic`: `handler([time, msg])` for each new event of `topic`. */
  subscribe(c: CallsClient, topic: string, handler: (event: TopicEventRecord) => unknown): void {
    if (typeof topic !== "string") throw new TypeError("an event topic must be a string");
    if (typeof handler !== "function") throw new TypeError("the handler must be a function");
    const had = this.#handlers.has(topic);
    this.#handlers.set(topic, handler);
    if (!had) c.send({ op: "subscribe-topic", topic });
  }

  /** `client.unsubscribeTopic`. */
  unsubscribe(c: CallsClient, topic: string): void {
    if (this.#handlers.delete(topic)) c.send({ op: "unsubscribe-topic", topic });
  }

  /** Subscribes again on a new connection (a replaced scheduler knows no subscription). */
  resubscribe(send: (msg: { op: "subscribe-topic"; topic: string }) => void): void {
    for (const topic of this.#handlers.keys()) send({ op: "subscribe-topic", topic });
  }

  /** An event arrived from the scheduler. */
  dispatch(msg: TopicEvent): void {
    const handler = this.#handlers.get(msg.topic);
    if (!handler) return;
    try {
      const r = handler([msg.time, decodeValue(msg.msg)]);
      if (r instanceof Promise) r.catch((e) => reportHandlerError(msg.topic, e));
    } catch (e) {
      reportHandlerError(msg.topic, e);
    }
  }
}

function reportHandlerError(topic: string, e: unknown): void {
  console.error(`dtask: the handler of topic ${JSON.stringify(topic)} threw:`, e);
}
