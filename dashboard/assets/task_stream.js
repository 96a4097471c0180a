/**
 * The task stream: one row per worker thread, one rectangle per task (or run of back-to-back
 * tasks) from its start to its stop, over a sliding window that ends at the scheduler's current
 * time. The plot is a strip of tiles that slides left (stream_tiles.js); each frame draws only
 * the entries that came since the previous one, into the tiles they fall in. The names and the
 * time axis are on a canvas of their own, drawn again only when the size or the rows change, as
 * is the whole plot. Rectangles are grouped by colour (one fillStyle per colour). No DOM per
 * task. Frames come from the page's FrameLoop.
 *
 * @module
 */

import { StreamRing } from "./stream_ring.js";
import { StreamTiles } from "./stream_tiles.js";

const BACKGROUND = "#ffffff";
const GUTTER = 120;
const AXIS = 18;
const MAX_ROW = 60;
/** A plot whose content x passes this (device pixels: hours) starts over at 0. */
const REBASE = 2 ** 22;

/** A task stream drawn in `root` (an empty element, sized by the page's style). */
export class TaskStream {
  /**
   * `frames`: the page's FrameLoop; `windowMs`: how much time the window shows; `capacity`: how
   * many entries are kept at most (enough for the window at the highest rate to be shown).
   */
  constructor(root, frames, { windowMs = 10_000, capacity = 1 << 17 } = {}) {
    this.root = root;
    this.frames = frames;
    this.labels = document.createElement("canvas");
    this.labels.className = "task-stream-labels";
    const plot = document.createElement("div");
    plot.className = "task-stream-plot";
    plot.style.left = `${GUTTER}px`;
    plot.style.bottom = `${AXIS}px`;
    root.replaceChildren(this.labels, plot);
    this.tiles = new StreamTiles(plot);
    this.windowMs = windowMs;
    this.ring = new StreamRing(capacity);
    this.visible = new Int32Array(capacity);
    this.order = new Int32Array(capacity);
    /** The listed workers: address, shown name and threads, in the order shown. */
    this.listed = [];
    this.serverTime = 0;
    this.receivedAt = 0;
    this.live = false;
    /**
     * What the plot shows: its layout key, the time at content x 0, the content x of its right
     * edge and the number of the first entry not drawn yet; null when the next frame draws all.
     */
    this.image = null;
    /** Numbers of drawn entries that reach past the tiles in use: drawn again as they come. */
    this.carried = [];
    /** The number of the oldest entry that may be in the window. */
    this.windowFirst = 0;
    /** The element's CSS size, as the resize observer last told (read once before that). */
    this.cssSize = null;
    this.part = () => {
      this.draw();
      return this.live && this.ring.size > 0; // it scrolls on
    };
    this.resizes = typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
        const box = entries.at(-1).contentRect;
        this.cssSize = { w: box.width, h: box.height };
        this.image = null;
        this.invalidate();
      })
      : null;
    this.resizes?.observe(root);
  }

  /** Sets the workers whose rows are shown (the feed's worker list). */
  setWorkers(workers) {
    const same = workers.length === this.listed.length &&
      workers.every((w, k) => {
        const l = this.listed[k];
        return l.address === w.address && l.name === (w.name || w.address) &&
          l.nthreads === w.nthreads;
      });
    if (same) return;
    this.listed = workers.map((w) => ({
      address: w.address,
      name: w.name || w.address,
      nthreads: w.nthreads,
    }));
    this.invalidate();
  }

  /** Adds a feed message's stream entries. */
  add(stream) {
    if (this.ring.add(stream) > 0) this.invalidate();
  }

  /** Forgets every entry (before a new snapshot). */
  clear() {
    this.ring.clear();
    this.image = null;
    this.carried = [];
    this.windowFirst = 0;
    this.invalidate();
  }

  /**
   * The scheduler's time of the latest message; the window scrolls on from it while `live`.
   * Not live (the feed is down), the window stops where it is and `time` is not used.
   */
  setTime(time, live = true) {
    this.serverTime = live ? time : this.now();
    this.receivedAt = performance.now();
    this.live = live;
    this.invalidate();
  }

  /** The scheduler's time now, as far as the page can tell. */
  now() {
    return this.live ? this.serverTime + (performance.now() - this.receivedAt) : this.serverTime;
  }

  /** Asks for a frame. */
  invalidate() {
    this.frames.request(this.part);
  }

  /** The rows: each shown worker's first row and row count, and the total. */
  layout(t0) {
    const ring = this.ring;
    const rows = [];
    let total = 0;
    const seen = new Set();
    for (const w of this.listed) {
      const id = ring.workerId(w.address);
      seen.add(id);
      const n = Math.max(w.nthreads, ring.lastStop[id] >= t0 ? ring.maxThread[id] + 1 : 0, 1);
      rows.push({ id, name: w.name, first: total, count: n });
      total += n;
    }
    // Workers gone from the list still show while their tasks are in the window.
    for (let id = 0; id < ring.workers.length; id++) {
      if (seen.has(id) || ring.lastStop[id] < t0) continue;
      const n = ring.maxThread[id] + 1;
      rows.push({ id, name: ring.workers[id], first: total, count: n });
      total += n;
    }
    const base = new Int32Array(ring.workers.length).fill(-1);
    for (const r of rows) base[r.id] = r.first;
    return { rows, total, base };
  }

  /** Draws the window ending now: what changed since the last frame, or all of it. */
  draw() {
    const { ring, tiles } = this;
    const dpr = globalThis.devicePixelRatio || 1;
    this.cssSize ??= { w: this.root.clientWidth, h: this.root.clientHeight };
    const cssW = this.cssSize.w, cssH = this.cssSize.h;
    const now = this.now();
    ring.dropBefore(now - 2 * this.windowMs);
    const { rows, total, base } = this.layout(now - this.windowMs);
    const plotW = Math.max(1, cssW - GUTTER), plotH = Math.max(1, cssH - AXIS);
    const rowH = total > 0 ? Math.min(MAX_ROW, plotH / total) : MAX_ROW;
    const width = Math.max(1, Math.round(plotW * dpr));
    const scale = width / this.windowMs; // device pixels per ms
    const key = `${cssW}x${cssH}@${dpr} ` +
      rows.map((r) => `${r.id}:${r.count}:${r.name}`).join(" ");

    const image = this.image;
    const right = image && image.key === key ? Math.floor((now - image.origin) * scale) : -1;
    if (image && right >= image.right && right - image.right < width && right < REBASE) {
      tiles.scrollTo(right);
      this.drawEntries(image.origin, scale, dpr, base, rowH, image.next);
      image.right = right;
      image.next = ring.pushed;
    } else if (!image || image.key !== key || right >= image.right) {
      this.drawLabels(rows, rowH, cssW, cssH, plotW, plotH, dpr);
      const origin = now - this.windowMs, separators = [];
      for (const r of rows) if (r.first > 0) separators.push(Math.round(r.first * rowH * dpr));
      tiles.reset(width, Math.max(1, Math.round(plotH * dpr)), dpr, separators, width);
      this.carried = [];
      this.drawEntries(origin, scale, dpr, base, rowH, ring.oldest);
      this.image = { key, origin, right: width, next: ring.pushed };
    } // else the page's clock went back a little: the plot waits for it
    const img = this.image;
    const left = img.origin + (img.right - width) / scale;
    this.root.dataset.entries = String(this.countInWindow(left));
    this.root.dataset.rows = String(total);
  }

  /** Entries that may be in a window starting at `t0`: those from the first that stops in it. */
  countInWindow(t0) {
    const ring = this.ring;
    let seq = Math.max(this.windowFirst, ring.oldest);
    while (seq < ring.pushed && ring.stop[ring.indexOf(seq)] < t0) seq++;
    this.windowFirst = seq;
    return ring.pushed - seq;
  }

  /**
   * Draws the entries from number `from` on, and those carried from the previous frame, into
   * the tiles (times from `origin`, `scale` device pixels per ms), one fillStyle per colour.
   * Entries that reach past the tiles in use are carried to the next frame.
   */
  drawEntries(origin, scale, dpr, base, rowH, from) {
    const { ring, visible, order, tiles } = this;
    const [lo, hi] = tiles.span;
    const ncol = ring.colours.length;
    const counts = new Int32Array(ncol + 1);
    const carried = [];
    let n = 0;
    const consider = (seq) => {
      const i = ring.indexOf(seq);
      if (i < 0 || base[ring.worker[i]] < 0) return;
      if ((ring.stop[i] - origin) * scale < lo) return;
      if ((ring.stop[i] - origin) * scale > hi) carried.push(seq);
      if ((ring.start[i] - origin) * scale >= hi) return;
      visible[n++] = i;
      counts[ring.colour[i] + 1]++;
    };
    for (const seq of this.carried) consider(seq);
    for (let seq = Math.max(from, ring.oldest); seq < ring.pushed; seq++) consider(seq);
    this.carried = carried;
    for (let c = 1; c <= ncol; c++) counts[c] += counts[c - 1];
    const offsets = counts.slice();
    for (let k = 0; k < n; k++) {
      const i = visible[k];
      order[offsets[ring.colour[i]]++] = i;
    }
    const pad = rowH > 4 ? 1 : 0;
    const barH = Math.max(1, rowH - 2 * pad) * dpr;
    // Rectangles of one colour that touch within half a pixel in a row are drawn as one.
    const rows = Math.ceil((this.cssSize.h || 1) / rowH) + 1;
    const runX0 = new Float64Array(rows), runX1 = new Float64Array(rows).fill(-Infinity);
    const half = dpr / 2;
    let rects = 0, colour = "";
    const flush = (row) => {
      tiles.fill(colour, runX0[row], runX1[row], (row * rowH + pad) * dpr, barH);
      runX1[row] = -Infinity;
      rects++;
    };
    for (const c of ring.drawOrder()) {
      if (counts[c + 1] === counts[c]) continue;
      colour = ring.colours[c];
      for (let k = counts[c]; k < counts[c + 1]; k++) {
        const i = order[k];
        const row = base[ring.worker[i]] + ring.thread[i];
        if (row >= rows) continue;
        const x0 = (ring.start[i] - origin) * scale;
        const x1 = Math.max(x0 + dpr, (ring.stop[i] - origin) * scale);
        if (runX1[row] !== -Infinity) {
          if (x0 <= runX1[row] + half && x0 >= runX0[row] - half) {
            if (x1 > runX1[row]) runX1[row] = x1;
            continue;
          }
          flush(row);
        }
        runX0[row] = x0;
        runX1[row] = x1;
      }
      for (let row = 0; row < rows; row++) if (runX1[row] !== -Infinity) flush(row);
    }
    this.root.dataset.rects = String(rects);
    return n;
  }

  /** The labels' canvas: each worker named in the gutter, and the time axis along the bottom. */
  drawLabels(rows, rowH, cssW, cssH, plotW, plotH, dpr) {
    const canvas = this.labels, ctx = canvas.getContext("2d");
    const w = Math.max(1, Math.round(cssW * dpr)), h = Math.max(1, Math.round(cssH * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, cssW, cssH);
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    ctx.fillStyle = "#f3f3f3";
    ctx.fillRect(
      0,
      0,
      GUTTER - 4,
      rows.length ? rows.at(-1).first * rowH + rows.at(-1).count * rowH : 0,
    );
    for (const r of rows) {
      ctx.fillStyle = "#333";
      const label = r.name.length > 18 ? "…" + r.name.slice(-17) : r.name;
      ctx.fillText(label, 4, (r.first + Math.min(r.count, 2) / 2) * rowH, GUTTER - 10);
      if (r.first > 0) {
        ctx.fillStyle = "#ccc";
        ctx.fillRect(0, r.first * rowH, GUTTER, 1);
      }
    }
    this.drawAxis(ctx, plotW, plotH);
  }

  /** Ticks along the bottom, in seconds before now. */
  drawAxis(ctx, plotW, plotH) {
    const stepS = this.windowMs > 20_000 ? 10 : 1;
    ctx.fillStyle = "#888";
    ctx.fillRect(GUTTER, plotH, plotW, 1);
    ctx.font = "10px system-ui, sans-serif";
    ctx.textBaseline = "top";
    ctx.textAlign = "center";
    for (let s = 0; s * 1000 <= this.windowMs; s += stepS) {
      const x = GUTTER + plotW - (s * 1000 * plotW) / this.windowMs;
      ctx.fillRect(x, plotH, 1, 4);
      ctx.fillText(s === 0 ? "now" : `-${s}s`, Math.min(x, GUTTER + plotW - 12), plotH + 5);
    }
    ctx.textAlign = "start";
  }

  /** Stops watching the element's size (frames stop with the page's FrameLoop). */
  close() {
    this.resizes?.disconnect();
  }
}
