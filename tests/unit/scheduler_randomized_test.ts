/**
 * Random stimuli on the state machine: every invariant holds after each, everything finishes,
 * nothing leaks.
 */
import assert from "node:assert/strict";
import { t } from "../fixtures/task_specs.ts";
import type { SchedulerConfig } from "../../scheduler/state.ts";
import { TASK_STATES, type TaskState } from "../../scheduler/task_state.ts";
import type { TaskSpec } from "../../comm/protocol.ts";
import { rng, Sim } from "../fixtures/scheduler_harness.ts";

// ------------------------------------------------------------------ randomized

function fuzz(seed: number, steps: number, config: Partial<SchedulerConfig>): void {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const x = new Sim(config);
  const clients = ["c1", "c2"];
  for (const c of clients) x.addClient(c);
  let nk = 0, nw = 0;
  const liveWorkers = () => [...x.s.workers.keys()];
  const processing = () => [...x.s.tasks.values()].filter((ts) => ts.state === "processing");
  for (let step = 0; step < steps; step++) {
    const op = r();
    if (op < 0.08 && x.s.workers.size < 4) {
      x.addWorker(`w${nw++}`, 1 + Math.floor(r() * 3));
    } else if (op < 0.12 && x.s.workers.size) {
      x.removeWorker(pick(liveWorkers()), r() < 0.3);
    } else if (op < 0.35) {
      const specs: TaskSpec[] = [];
      const known = [...x.s.tasks.keys()];
      const n = 1 + Math.floor(r() * 4);
      for (let i = 0; i < n; i++) {
        if (known.length && r() < 0.15) {
          specs.push(t(pick(known))); // resubmission
          continue;
        }
        const deps = new Set<string>();
        const pool = [...known, ...specs.map((s) => s.k)];
        const nd = pool.length ? Math.floor(r() * 3) : 0;
        for (let j = 0; j < nd; j++) deps.add(pick(pool));
        if (r() < 0.02) deps.add(`unknown-${nk}`);
        const restricted = r() < 0.1;
        specs.push(t(`k${nk++}-x`, [...deps], {
          p: r() < 0.2 ? Math.floor(r() * 5) - 2 : undefined,
          r: r() < 0.1 ? 1 : undefined,
          w: restricted ? [`w${Math.floor(r() * (nw + 2))}`] : undefined,
          lo: restricted && r() < 0.5,
        }));
      }
      const wanted = specs.filter(() => r() < 0.7).map((s) => s.k);
      x.submit(specs, wanted, pick(clients));
    } else if (op < 0.45) {
      const c = pick(clients);
      const wants = x.wantedBy(c);
      if (wants.length) x.release([pick(wants)], c);
    } else if (op < 0.47) {
      const c = pick(clients);
      x.removeClient(c);
      x.addClient(c);
    } else if (op < 0.75) {
      const p = processing();
      if (p.length) {
        const ts = pick(p);
        const w = r() < 0.05 ? pick(liveWorkers()) : ts.processingOn!.address;
        x.finish(ts.key, w, Math.floor(r() * 1e6));
      }
    } else if (op < 0.82) {
      const p = processing();
      if (p.length) x.err(pick(p).key);
    } else if (op < 0.87) {
      const p = processing().filter((ts) => ts.deps.some((d) => d.whoHas?.size));
      if (p.length) {
        const ts = pick(p);
        const dep = pick(ts.deps.filter((d) => d.whoHas?.size));
        x.missing(ts.key, dep.key, pick([...dep.whoHas!]).address);
      }
    } else if (op < 0.89) {
      const mem = [...x.s.tasks.values()].filter((ts) => ts.state === "memory" && ts.hasArgs);
      if (mem.length) x.scattered(pick(mem).key);
    } else if (op < 0.92) {
      const keys = [...x.s.tasks.keys()];
      if (keys.length) x.requestValues([pick(keys), "nope-1"], pick(clients));
    } else if (op < 0.94) {
      x.balance();
    } else {
      // a victim answers a steal request: dropped it, runs it, or finished it first
      const inflight = [...x.s.stealsInFlight];
      if (inflight.length) {
        const [ts, st] = pick(inflight);
        const v = st.victim.address;
        const q = r();
        if (q < 0.5) x.stealAnswer(ts.key, v, pick(["ready", "waiting"]));
        else if (q < 0.75) x.stealAnswer(ts.key, v, "executing");
        else {
          x.finish(ts.key, v);
          x.stealAnswer(ts.key, v, "memory");
        }
      } else {
        const keys = [...x.s.tasks.keys()];
        const ws = liveWorkers();
        if (keys.length && ws.length) x.stealAnswer(pick(keys), pick(ws), "executing"); // stale
      }
    }
  }
  // liveness: with a worker and everything finishing, nothing stays pending
  x.addWorker("final", 4);
  for (let i = 0; i < 10_000; i++) {
    const p = processing();
    if (!p.length) break;
    for (const ts of p) if (ts.state === "processing") x.finish(ts.key, ts.processingOn!.address);
  }
  for (const ts of x.s.tasks.values()) {
    const cannotRun = (t: TaskState): boolean =>
      (t.restrictions !== null && !t.loose &&
        ![...t.restrictions].some((w) => x.s.workers.has(w))) ||
      t.deps.some((d) => d.state !== "memory" && cannotRun(d));
    assert.ok(
      ts.state === "memory" || ts.state === "erred" || ts.state === "released" ||
        ((ts.state === "no-worker" || ts.state === "waiting") && cannotRun(ts)),
      `seed ${seed}: ${ts.key} stuck in ${ts.state}`,
    );
  }
  // no leaks: once every client is gone, nothing is left anywhere
  for (const c of clients) x.removeClient(c);
  assert.equal(x.s.tasks.size, 0, `seed ${seed}: tasks left`);
  for (const s of TASK_STATES) assert.equal(x.s.counts[s], 0, `seed ${seed}: count of ${s}`);
  for (const [address, ws] of x.s.workers) {
    assert.equal(ws.processing.size + ws.hasWhat.size, 0, `seed ${seed}: ${address} not empty`);
    assert.equal(ws.nbytes, 0);
    assert.ok(ws.occupancy < 1e-9);
    assert.equal(x.model.get(address)!.size, 0, `seed ${seed}: ${address} still holds keys`);
  }
}

Deno.test("randomized stimuli keep every invariant, finish everything, leak nothing", () => {
  for (let seed = 1; seed <= 120; seed++) {
    fuzz(seed, 500, { workerSaturation: [1.1, 1, Infinity, 2][seed % 4], allowedFailures: 1 });
  }
});
