/**
 * The live dashboard page (status.html and tasks.html): connects to the scheduler's feed and
 * keeps every part of the page current in place: counts, the task stream, progress per prefix,
 * memory and processing per worker. Each part is optional, so one script serves both pages.
 *
 * @module
 */

import { el, ProgressBars, setText } from "./bars.js";
import { connectFeed } from "./feed_client.js";
import { FrameLoop } from "./frame_loop.js";
import { KIND_COLOURS, KIND_NAMES, prefixColour } from "./palette.js";
import { TaskStream } from "./task_stream.js";
import { WorkersView } from "./workers_view.js";

/** Task states in the order the counts show them; others follow in name order. */
const STATES = ["waiting", "queued", "processing", "memory", "erred", "released", "no-worker"];

/**
 * The page draws at most this often (ms), once per feed message (FEED_INTERVAL). Each frame
 * costs a browser milliseconds of processor time whatever changed in it (headless Chromium: 10
 * frames a second cost about 3 % of a core more than 5, bench/dashboard_cpu_probe.ts), time
 * taken from the cluster it shows when they share a small machine.
 */
const FRAME_GAP = 200;
/**
 * The counts, progress and workers change at most this often (ms), in a frame the task stream
 * draws in anyway. Each change of the page's text and bars costs the browser a repaint.
 */
const DOM_GAP = 500;

const byId = (id) => document.getElementById(id);

/** The counts strip: one `<dd>` per state and per cluster total, made once. */
class CountsView {
  constructor(list) {
    this.list = list;
    this.items = new Map();
  }

  set(key, value) {
    let item = this.items.get(key);
    if (!item) {
      const dt = el("dt", "", key);
      const dd = el("dd", "");
      dd.dataset.count = key;
      this.list.append(dt, dd);
      item = dd;
      this.items.set(key, item);
    }
    setText(item, String(value));
  }

  update(msg) {
    const workers = msg.workers.length;
    const threads = msg.workers.reduce((s, w) => s + w.nthreads, 0);
    this.set("workers", workers);
    this.set("threads", threads);
    this.set("clients", msg.clients);
    const states = Object.keys(msg.counts).filter((s) => !STATES.includes(s)).sort();
    for (const s of [...STATES, ...states]) this.set(s, msg.counts[s] ?? 0);
  }
}

/** The legend under the task stream: kinds first, then each prefix once it has been seen. */
class Legend {
  constructor(list) {
    this.list = list;
    this.seen = new Set();
    for (let k = 1; k < KIND_NAMES.length; k++) this.add(KIND_NAMES[k], KIND_COLOURS[k]);
  }

  add(name, colour) {
    if (this.seen.has(name)) return;
    this.seen.add(name);
    const item = el("li", "", name);
    const swatch = el("span", "swatch");
    swatch.style.backgroundColor = colour;
    item.prepend(swatch);
    this.list.append(item);
  }

  addPrefixes(prefixes) {
    for (const p of prefixes) this.add(p, prefixColour(p));
  }
}

function start() {
  const frames = new FrameLoop(FRAME_GAP);
  const root = byId("task-stream");
  const stream = root
    ? new TaskStream(root, frames, {
      windowMs: Number(root.dataset.window) || 10_000,
      capacity: Number(root.dataset.capacity) || 1 << 17,
    })
    : null;
  const legend = byId("stream-legend") ? new Legend(byId("stream-legend")) : null;
  const progress = byId("progress") ? new ProgressBars(byId("progress")) : null;
  const workers = byId("workers-table")
    ? new WorkersView({
      table: byId("workers-table"),
      clusterBar: byId("cluster-memory"),
      clusterText: byId("cluster-memory-text"),
    })
    : null;
  const counts = byId("counts") ? new CountsView(byId("counts")) : null;
  const identity = byId("identity");
  const connection = byId("connection");

  // The DOM parts change at most every DOM_GAP ms, in a frame: the latest workers and counts,
  // and every prefix's latest progress, are kept until then. The messages are counted on the
  // page (data-updates) in a frame too: any change of the document outside one costs a frame.
  let pending = null;
  let domTimer = 0;
  let lastDom = -Infinity;
  let messages = 0;
  const applyDom = (now) => {
    if (document.body.dataset.updates !== String(messages)) {
      document.body.dataset.updates = String(messages);
    }
    if (pending === null) return false;
    const wait = lastDom + DOM_GAP - now;
    if (wait > 0) {
      domTimer ||= setTimeout(() => {
        domTimer = 0;
        frames.request(applyDom);
      }, wait);
      return false;
    }
    lastDom = now;
    const msg = pending;
    pending = null;
    progress?.update(msg.progress);
    workers?.update(msg.workers);
    counts?.update(msg);
    return false;
  };

  const onMessage = (msg) => {
    if (msg.type !== "snapshot" && msg.type !== "update") return;
    if (msg.type === "snapshot") {
      if (identity) {
        const id = msg.identity;
        setText(identity, `scheduler ${id.address} · dtask ${id.version}`);
      }
      stream?.clear();
      progress?.replace(msg.progress);
      pending = null;
      lastDom = -Infinity;
    }
    stream?.setWorkers(msg.workers);
    stream?.add(msg.stream);
    stream?.setTime(msg.time, true);
    legend?.addPrefixes(msg.stream.prefixes);
    const progressSoFar = { ...pending?.progress, ...msg.progress };
    // not the stream: kept only in the ring, the message can go at the next collection
    pending = {
      workers: msg.workers,
      counts: msg.counts,
      clients: msg.clients,
      progress: progressSoFar,
    };
    messages++;
    frames.request(applyDom);
  };

  let everClosed = false;
  const onState = (state, retryIn) => {
    if (state === "closed") everClosed = true;
    if (connection) {
      connection.dataset.state = state;
      const text = state === "open"
        ? "live"
        : state === "closed"
        ? `disconnected, retrying in ${(retryIn / 1000).toFixed(1)} s`
        : everClosed
        ? "disconnected, retrying…"
        : "connecting…";
      setText(connection, text);
    }
    if (state === "closed") stream?.setTime(0, false);
  };

  connectFeed(location.href, onMessage, onState);
}

start();
