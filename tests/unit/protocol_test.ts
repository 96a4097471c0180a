// The protocol's tables: every op is declared once (one validator, one channel), every request
// has a reply that exists, and each op's validator takes a well-formed message and names the
// field of a broken one.
import assert from "node:assert/strict";
import {
  CHANNELS,
  CLIENT_OPS,
  type Message,
  type MessageByOp,
  OPS,
  PEER_REQUEST_OPS,
  type Replies,
  REPLY_OPS,
  type RequestOp,
  SCHEDULER_TO_CLIENT_OPS,
  SCHEDULER_TO_WORKER_OPS,
  type SpecEntry,
  validateMessage,
  WORKER_OPS,
} from "../../comm/protocol.ts";
import { ProtocolError } from "../../core/errors.ts";
import { Payload } from "../../comm/serialize.ts";

/** The memory fields of a heartbeat and of a scheduler-info entry, all zero. */
const HB_MEMORY = { rss: 0, spilled: 0, spillBytes: 0, spillSeconds: 0 };
const NO_MEMORY = { managed: 0, unmanaged: 0, spilled: 0, rss: 0 };

/** Every direction table, with its channel's name. */
const directions = Object.entries(CHANNELS).flatMap(([channel, tables]) =>
  Object.entries(tables as Record<string, Record<string, SpecEntry>>).map(([name, table]) => ({
    channel,
    name,
    table,
  }))
);

/** The ops carried on two channels: one declaration, reused by the second channel's table. */
const SHARED: Record<string, string[]> = {
  run: ["client-scheduler", "worker-scheduler"], // a client's call, relayed to each worker
  "run-reply": ["client-scheduler", "worker-scheduler"],
  preload: ["client-scheduler", "worker-scheduler"],
  "log-event": ["client-scheduler", "worker-scheduler"], // a client's, or a task's on a worker
  // the generic reply (a worker's ack of expect-data is taken by the scheduler's pending
  // request before its stream handler, so the worker-to-scheduler table does not list it)
  ack: ["client-scheduler", "worker-worker"],
};

function specOf(op: string): SpecEntry {
  for (const d of directions) if (op in d.table) return d.table[op];
  throw new Error(`no spec for ${op}`);
}

Deno.test("every op has exactly one validator and belongs to exactly one channel", () => {
  const specs = new Map<string, Set<SpecEntry>>();
  const channels = new Map<string, Set<string>>();
  for (const { channel, table } of directions) {
    for (const [op, spec] of Object.entries(table)) {
      if (!specs.has(op)) specs.set(op, new Set()), channels.set(op, new Set());
      specs.get(op)!.add(spec);
      channels.get(op)!.add(channel);
      assert.equal(typeof spec.check, "function", op);
    }
  }
  assert.deepEqual([...specs.keys()].sort(), [...OPS].sort());
  for (const [op, s] of specs) assert.equal(s.size, 1, `${op} has ${s.size} validators`);
  const owners = new Map<SpecEntry, string>();
  for (const [op, s] of specs) {
    const spec = [...s][0];
    assert.equal(owners.get(spec) ?? op, op, `${op} and ${owners.get(spec)} share a spec`);
    owners.set(spec, op);
  }
  for (const [op, c] of channels) {
    assert.deepEqual([...c].sort(), SHARED[op] ?? [...c].slice(0, 1), `${op} is on ${[...c]}`);
  }
});

Deno.test("every direction's op set is its table's ops", () => {
  const sets: [ReadonlySet<string>, object][] = [
    [CLIENT_OPS, CHANNELS["client-scheduler"].CLIENT_TO_SCHEDULER],
    [SCHEDULER_TO_CLIENT_OPS, CHANNELS["client-scheduler"].SCHEDULER_TO_CLIENT],
    [SCHEDULER_TO_WORKER_OPS, CHANNELS["worker-scheduler"].SCHEDULER_TO_WORKER],
    [WORKER_OPS, CHANNELS["worker-scheduler"].WORKER_TO_SCHEDULER],
    [PEER_REQUEST_OPS, CHANNELS["worker-worker"].PEER_TO_WORKER],
  ];
  for (const [set, table] of sets) assert.deepEqual([...set].sort(), Object.keys(table).sort());
});

/** The reply op of each request: the compiler demands every request op, with its reply's op. */
const REPLY_OP: { [O in RequestOp]: Replies[O]["op"] } = {
  "scheduler-info": "scheduler-info-reply",
  "who-has": "who-has-reply",
  "has-what": "has-what-reply",
  "wait-for-workers": "wait-for-workers-reply",
  scatter: "scatter-plan",
  "gather-values": "gathered-values",
  "scatter-values": "ack",
  restart: "ack",
  "retire-workers": "retire-workers-reply",
  story: "story-reply",
  "get-worker-logs": "get-worker-logs-reply",
  run: "run-reply",
  replicate: "ack",
  rebalance: "ack",
  "publish-dataset": "ack",
  "get-dataset": "dataset-reply",
  "list-datasets": "list-datasets-reply",
  "unpublish-dataset": "ack",
  "get-events": "events-reply",
  "get-task-stream": "task-stream-reply",
  "lock-acquire": "lease-reply",
  "lock-release": "lease-reply",
  "lock-held": "lock-held-reply",
  "semaphore-acquire": "lease-reply",
  "semaphore-release": "lease-reply",
  "semaphore-value": "semaphore-value-reply",
  "queue-put": "ack",
  "queue-get": "shared-items",
  "queue-size": "shared-count",
  "variable-set": "ack",
  "variable-get": "shared-items",
  "variable-delete": "ack",
  "event-set": "ack",
  "event-clear": "ack",
  "event-is-set": "shared-flag",
  "event-wait": "shared-flag",
  "acquire-replicas": "acquire-replicas-reply",
  "expect-data": "ack",
  "worker-story": "worker-story-reply",
  "worker-logs": "worker-logs-reply",
  "get-data": "data",
  "put-data": "ack",
  "actor-call": "actor-result",
};

Deno.test("every request op has a reply op that exists, and only replies are matched by id", () => {
  const requests = [...OPS].filter((op) => specOf(op).reply !== null);
  assert.deepEqual(requests.sort(), Object.keys(REPLY_OP).sort());
  for (const op of requests) {
    const reply = specOf(op).reply!;
    assert.equal(reply, REPLY_OP[op as RequestOp], op);
    assert.ok(OPS.has(reply), `${op}'s reply ${reply} is no op`);
    assert.equal(specOf(reply).reply, null, `${reply} answers, it does not ask`);
    assert.ok("id" in SAMPLES[op as Message["op"]] && "id" in SAMPLES[reply as Message["op"]]);
  }
  assert.deepEqual([...REPLY_OPS].sort(), [...new Set(Object.values(REPLY_OP))].sort());
});

const p = new Payload(new Uint8Array([0xc0]), []);
const env = { name: "Error", message: "m" };
const fn = { h: "h", n: "f", s: "() => 1" };
const info = { address: "tcp://w:1", name: "w", nthreads: 1, memoryLimit: 0, pid: 1 };
const plain = { k: ["a-1"], f: ["h"], fi: [0], a: p, ae: [1], d: ["x"], dc: [1], di: [0] };
const task = {
  k: "b",
  f: "h",
  a: p,
  d: ["a"],
  p: 1,
  r: 1,
  w: ["w"],
  lo: true,
  rs: { GPU: 1 },
  ps: "a",
  ac: 1,
};

/** A well-formed message of every op, optional fields included (the compiler demands each op). */
const SAMPLES: { [O in Message["op"]]: MessageByOp[O] } = {
  hello: {
    op: "hello",
    version: 1,
    role: "worker",
    name: "w",
    token: "t",
    worker: info,
    resume: "c",
    inWorker: "tcp://w:1",
  },
  welcome: {
    op: "welcome",
    version: 1,
    role: "scheduler",
    address: "a",
    id: "c",
    dashboard: "http://a/status",
  },
  refused: { op: "refused", reason: "r", wrongRole: "worker", use: "tcp://s:1" },
  "update-graph": {
    op: "update-graph",
    tasks: [task],
    plain,
    wanted: ["b"],
    functions: [fn],
    fifo: 100,
  },
  "release-keys": { op: "release-keys", keys: ["a"] },
  "request-values": { op: "request-values", keys: ["a"] },
  "scheduler-info": { op: "scheduler-info", id: 1 },
  "who-has": { op: "who-has", id: 1, keys: ["a"] },
  story: { op: "story", id: 1, keys: ["a", "tcp://w:1"] },
  "has-what": { op: "has-what", id: 1, workers: ["w"] },
  "wait-for-workers": { op: "wait-for-workers", id: 1, n: 1, timeout: 10 },
  "close-client": { op: "close-client" },
  preload: { op: "preload", urls: ["u"] },
  "cancel-keys": { op: "cancel-keys", keys: ["a"], force: true },
  "retry-keys": { op: "retry-keys", keys: ["a"] },
  "fire-and-forget": { op: "fire-and-forget", keys: ["a"] },
  scatter: {
    op: "scatter",
    id: 1,
    keys: ["a"],
    nbytes: [1],
    workers: ["w"],
    broadcast: true,
    timeout: 1,
  },
  "update-data": { op: "update-data", who: { a: ["w"] }, nbytes: { a: 1 } },
  "gather-values": { op: "gather-values", id: 1, worker: "w", keys: ["a"] },
  "scatter-values": { op: "scatter-values", id: 1, worker: "w", values: { a: p } },
  restart: { op: "restart", id: 1, timeout: 10 },
  "retire-workers": { op: "retire-workers", id: 1, workers: ["w"] },
  "worker-exited": { op: "worker-exited", address: "w", how: "exit code 3" },
  run: { op: "run", id: 1, fn, a: p, scheduler: true },
  replicate: { op: "replicate", id: 1, keys: ["a"], n: 2 },
  rebalance: { op: "rebalance", id: 1, keys: ["a"] },
  "publish-dataset": { op: "publish-dataset", id: 1, name: "d", v: p, keys: ["a"] },
  "get-dataset": { op: "get-dataset", id: 1, name: "d", timeout: 10 },
  "list-datasets": { op: "list-datasets", id: 1 },
  "unpublish-dataset": { op: "unpublish-dataset", id: 1, name: "d" },
  "log-event": { op: "log-event", topics: ["t"], msg: p },
  "get-events": { op: "get-events", id: 1, topic: "t" },
  "subscribe-topic": { op: "subscribe-topic", topic: "t" },
  "unsubscribe-topic": { op: "unsubscribe-topic", topic: "t" },
  "get-task-stream": { op: "get-task-stream", id: 1, start: 0 },
  "queue-put": {
    op: "queue-put",
    id: 1,
    name: "q",
    maxsize: 1,
    v: p,
    keys: ["a"],
    timeout: 10,
  },
  "queue-get": { op: "queue-get", id: 1, name: "q", maxsize: 0, timeout: 0, batch: 2 },
  "queue-size": { op: "queue-size", id: 1, name: "q", maxsize: 0 },
  "variable-set": { op: "variable-set", id: 1, name: "v", v: p, keys: ["a"] },
  "variable-get": { op: "variable-get", id: 1, name: "v", timeout: 10 },
  "variable-delete": { op: "variable-delete", id: 1, name: "v" },
  "event-set": { op: "event-set", id: 1, name: "e" },
  "event-clear": { op: "event-clear", id: 1, name: "e" },
  "event-is-set": { op: "event-is-set", id: 1, name: "e" },
  "event-wait": { op: "event-wait", id: 1, name: "e", timeout: 10 },
  "shared-keys-taken": { op: "shared-keys-taken", keys: ["a"] },
  "key-in-memory": { op: "key-in-memory", k: "a", w: ["w"], v: p },
  "key-erred": { op: "key-erred", k: "a", e: env, blame: "a" },
  "keys-cancelled": { op: "keys-cancelled", keys: ["a"], reason: "r" },
  "scheduler-info-reply": {
    op: "scheduler-info-reply",
    id: 1,
    address: "a",
    workers: { w: { ...info, status: "paused", memory: NO_MEMORY } },
  },
  "who-has-reply": { op: "who-has-reply", id: 1, whoHas: { a: ["w"] } },
  "story-reply": {
    op: "story-reply",
    id: 1,
    events: [
      { time: 1, stimulusId: "update-graph-1", key: "a", start: "released", finish: "waiting" },
      { time: 2, stimulusId: "worker-closed-2", worker: "w", event: "removed", reason: "lost" },
    ],
  },
  "has-what-reply": { op: "has-what-reply", id: 1, hasWhat: { w: ["a"] } },
  "wait-for-workers-reply": { op: "wait-for-workers-reply", id: 1, n: 1, error: "e" },
  "retire-workers-reply": { op: "retire-workers-reply", id: 1, workers: { w: info }, e: env },
  "scatter-plan": { op: "scatter-plan", id: 1, who: { a: ["w"] }, e: env },
  "gathered-values": { op: "gathered-values", id: 1, values: { a: p } },
  "scheduler-closing": { op: "scheduler-closing", reason: "r" },
  "run-reply": { op: "run-reply", id: 1, v: p, results: { w: p }, e: env },
  ack: { op: "ack", id: 1, e: env },
  "dataset-reply": { op: "dataset-reply", id: 1, v: p, keys: ["a"], e: env },
  "list-datasets-reply": { op: "list-datasets-reply", id: 1, names: ["d"] },
  "events-reply": { op: "events-reply", id: 1, events: { t: [[1, p]] } },
  "topic-event": { op: "topic-event", topic: "t", time: 1, msg: p },
  "shared-items": { op: "shared-items", id: 1, vs: [p], keys: [["a"]], e: env },
  "shared-count": { op: "shared-count", id: 1, n: 2, e: env },
  "shared-flag": { op: "shared-flag", id: 1, flag: true },
  "task-stream-reply": {
    op: "task-stream-reply",
    id: 1,
    keys: ["a"],
    workers: ["w"],
    starts: [0],
    stops: [1],
    ok: [1],
    kind: [3],
    nbytes: [64],
    sources: [""],
  },
  "get-worker-logs": { op: "get-worker-logs", id: 1, workers: ["w"] },
  "get-worker-logs-reply": {
    op: "get-worker-logs-reply",
    id: 1,
    logs: { "tcp://w:1": [["INFO", "started"]] },
  },
  "worker-logs": { op: "worker-logs", id: 1 },
  "worker-logs-reply": { op: "worker-logs-reply", id: 1, lines: [["WARNING", "w"]] },
  "io-stream": {
    op: "io-stream",
    kind: [2, 3, 4],
    start: [0, 1, 2],
    stop: [1, 2, 3],
    nbytes: [1024, 512, 512],
    keys: [2, 1, 1],
    source: ["tcp://w:2", "", ""],
  },
  "compute-task": {
    op: "compute-task",
    k: "a",
    f: "h",
    fn,
    a: p,
    d: { x: ["w"] },
    p: [0, 1],
    r: true,
    ac: true,
    sid: "update-graph-1",
  },
  "free-keys": { op: "free-keys", keys: ["a"], sid: "release-keys-2" },
  "close-worker": { op: "close-worker", reason: "r", restart: true },
  "acquire-replicas": { op: "acquire-replicas", id: 1, who: { a: ["w"] } },
  "steal-request": { op: "steal-request", k: "a", sid: "balance-3" },
  "worker-story": { op: "worker-story", id: 1, keys: ["a"] },
  "worker-story-reply": {
    op: "worker-story-reply",
    id: 1,
    events: [{ time: 1, stimulusId: "compute-task-4", cause: "update-graph-1", key: "a" }],
  },
  "expect-data": { op: "expect-data", id: 1, keys: ["a"] },
  "task-finished": { op: "task-finished", k: "a", nbytes: 1, start: 0, stop: 1, v: p, th: 1 },
  "task-erred": { op: "task-erred", k: "a", e: env, start: 0, stop: 1, th: 0 },
  "task-crashed": { op: "task-crashed", k: "a", reason: "thread 0 died" },
  "missing-data": { op: "missing-data", k: "a", key: "b", worker: "w" },
  heartbeat: {
    op: "heartbeat",
    memory: 1,
    executing: 0,
    ready: 0,
    stored: 0,
    ...HB_MEMORY,
    cpu: 12.5,
  },
  "worker-status": { op: "worker-status", status: "paused" },
  "acquire-replicas-reply": { op: "acquire-replicas-reply", id: 1, keys: ["a"] },
  "steal-response": { op: "steal-response", k: "a", state: "ready" },
  "long-running": { op: "long-running", k: "a" },
  "lock-acquire": { op: "lock-acquire", id: 1, lease: "1", names: ["a", "b"], n: 1, timeout: 0 },
  "lock-release": { op: "lock-release", id: 1, lease: "1" },
  "lock-held": { op: "lock-held", id: 1, names: ["a"] },
  "lock-held-reply": { op: "lock-held-reply", id: 1, held: 1 },
  "semaphore-acquire": {
    op: "semaphore-acquire",
    id: 1,
    name: "s",
    max: 2,
    lease: "2",
    timeout: 100,
  },
  "semaphore-release": { op: "semaphore-release", id: 1, lease: "2" },
  "semaphore-value": { op: "semaphore-value", id: 1, name: "s", max: 2 },
  "semaphore-value-reply": { op: "semaphore-value-reply", id: 1, value: 1, e: env },
  "lease-reply": { op: "lease-reply", id: 1, ok: true, e: env },
  "get-data": { op: "get-data", id: 1, keys: ["a"] },
  data: { op: "data", id: 1, values: { a: p } },
  "put-data": { op: "put-data", id: 1, values: { a: p } },
  "actor-call": { op: "actor-call", id: 1, key: "a", method: "m", a: p },
  "actor-result": { op: "actor-result", id: 1, v: p, e: env },
  "actor-calls": { op: "actor-calls", calls: [{ i: 1, k: "a", m: "m", a: p }] },
  "actor-results": { op: "actor-results", results: [{ i: 1, v: p }, { i: 2, e: env }] },
};

/** A value no field of any message accepts. */
const WRONG = Symbol("wrong");

Deno.test("a sample of each op passes; the same with any one field of a wrong type fails", () => {
  assert.deepEqual(Object.keys(SAMPLES).sort(), [...OPS].sort());
  for (const [op, sample] of Object.entries(SAMPLES)) {
    assert.equal(validateMessage(sample), sample, op);
    for (const field of Object.keys(sample)) {
      if (field === "op") continue;
      const broken = { ...sample, [field]: WRONG };
      assert.throws(
        () => validateMessage(broken),
        (e) =>
          e instanceof ProtocolError &&
          e.message === `malformed ${op} message: field ${field} is missing or has a wrong type`,
        `${op} with a wrong ${field}`,
      );
    }
    assert.throws(() => validateMessage({ ...sample, op: `${op}!` }), /unknown op/);
  }
});

Deno.test("a task's thread index is a whole number and a heartbeat's CPU use is not negative", () => {
  const finished = (th: unknown) => ({
    op: "task-finished",
    k: "a",
    nbytes: 1,
    start: 0,
    stop: 1,
    th,
  });
  assert.ok(validateMessage(finished(3)));
  assert.ok(validateMessage(finished(undefined)));
  assert.throws(() => validateMessage(finished(-1)), /field th/);
  assert.throws(() => validateMessage(finished(1.5)), /field th/);
  const beat = (cpu: unknown) => ({
    op: "heartbeat",
    memory: 1,
    executing: 0,
    ready: 0,
    stored: 0,
    ...HB_MEMORY,
    cpu,
  });
  assert.ok(validateMessage(beat(150)));
  assert.throws(() => validateMessage(beat(-1)), /field cpu/);
});

Deno.test("a worker's status is running or paused on its stream, and any of three in scheduler-info", () => {
  const status = (status: unknown) => ({ op: "worker-status", status });
  assert.ok(validateMessage(status("running")));
  assert.throws(() => validateMessage(status("closing")), /field status/);
  const reply = (status: unknown, memory: unknown = NO_MEMORY) => ({
    op: "scheduler-info-reply",
    id: 1,
    address: "a",
    workers: { w: { ...info, status, memory } },
  });
  for (const s of ["running", "paused", "closing"]) assert.ok(validateMessage(reply(s)));
  assert.throws(() => validateMessage(reply("sleeping")), /field workers/);
  assert.throws(() => validateMessage(reply(undefined)), /field workers/);
  // each worker's memory breakdown, in bytes
  assert.throws(() => validateMessage(reply("running", null)), /field workers/);
  assert.throws(() => validateMessage(reply("running", { ...NO_MEMORY, spilled: -1 })), /workers/);
});

Deno.test("an io-stream batch's columns are as long as its kinds, of kinds 2 to 4 only", () => {
  const ok = {
    op: "io-stream",
    kind: [2, 4],
    start: [0, 1],
    stop: [1, 2],
    nbytes: [10, 20],
    keys: [3, 1],
    source: ["tcp://w:2", ""],
  };
  assert.equal(validateMessage(ok), ok);
  const broken: [Record<string, unknown>, RegExp][] = [
    [{ ...ok, kind: [0, 4] }, /field kind/], // a compute is no I/O
    [{ ...ok, kind: [2, 5] }, /field kind/],
    [{ ...ok, start: [0] }, /field start/],
    [{ ...ok, stop: [1, 2, 3] }, /field stop/],
    [{ ...ok, nbytes: [10, -1] }, /field nbytes/],
    [{ ...ok, keys: [1.5, 1] }, /field keys/],
    [{ ...ok, source: ["", 1] }, /field source/],
  ];
  for (const [m, field] of broken) assert.throws(() => validateMessage(m), field);
  const reply = { op: "worker-logs-reply", id: 1, lines: [["INFO", "a", "b"]] };
  assert.throws(() => validateMessage(reply), /field lines/);
  const logs = { op: "get-worker-logs-reply", id: 1, logs: { w: [["INFO"]] } };
  assert.throws(() => validateMessage(logs), /field logs/);
});
