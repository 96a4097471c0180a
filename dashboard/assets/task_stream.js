/**
 * The task stream on a canvas: one row per worker thread, one rectangle per task from its start
 * to its stop, over a sliding window that ends at the scheduler's current time. Drawing happens
 * at most once per animation frame, rectangles grouped by colour (one fillStyle per colour), so
 * tens of thousands of entries draw in a few milliseconds. No DOM per task.
 *
 * @module
 */

import { StreamRing } from "./stream_ring.js";

const BACKGROUND = "#ffffff";
const GUTTER = 120;
const AXIS = 18;
const MAX_ROW = 60;
/**
 * Redraw at most this often (ms): the feed brings new entries ten times a second, and a page that
 * redraws more often only takes processor time from the cluster it shows (on a small machine
 * they share the same cores).
 */
const FRAME_GAP = 100;

/** A task stream drawn on `canvas`. */
export class TaskStream {
  /**
   * `windowMs`: how much time the window shows; `capacity`: how many entries are kept at most
   * (enough for the window at the highest rate to be shown).
   */
  constructor(canvas, { windowMs = 10_000, capacity = 1 << 17 } = {}) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { alpha: false });
    this.windowMs = windowMs;
    this.ring = new StreamRing(capacity);
    this.visible = new Int32Array(capacity);
    this.order = new Int32Array(capacity);
    /** The listed workers: address, shown name and threads, in the order shown. */
    this.listed = [];
    this.serverTime = 0;
    this.receivedAt = 0;
    this.live = false;
    this.frame = 0;
    this.lastDraw = -Infinity;
    this.dirty = true;
  }

  /** Sets the workers whose rows are shown (the feed's worker list). */
  setWorkers(workers) {
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

  /** Asks for a redraw at the next animation frame. */
  invalidate() {
    this.dirty = true;
    if (this.frame === 0) this.frame = requestAnimationFrame((t) => this.onFrame(t));
  }

  onFrame(t) {
    this.frame = 0;
    const scrolling = this.live && this.ring.size > 0;
    const due = t - this.lastDraw >= FRAME_GAP;
    if (due && (this.dirty || scrolling)) {
      this.dirty = false;
      this.lastDraw = t;
      this.draw();
    }
    if (scrolling || this.dirty) this.frame = requestAnimationFrame((t) => this.onFrame(t));
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

  /** Draws the window ending now. */
  draw() {
    const { canvas, ctx, ring } = this;
    const dpr = globalThis.devicePixelRatio || 1;
    const cssW = canvas.clientWidth, cssH = canvas.clientHeight;
    const w = Math.max(1, Math.round(cssW * dpr)), h = Math.max(1, Math.round(cssH * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, cssW, cssH);

    const t1 = this.now(), t0 = t1 - this.windowMs;
    ring.dropBefore(t0 - this.windowMs);
    const { rows, total, base } = this.layout(t0);
    const plotW = Math.max(1, cssW - GUTTER), plotH = Math.max(1, cssH - AXIS);
    const rowH = total > 0 ? Math.min(MAX_ROW, plotH / total) : MAX_ROW;
    const scale = plotW / this.windowMs;

    const drawn = this.drawEntries(t0, t1, base, rowH, scale);
    this.drawLabels(rows, rowH, cssW);
    this.drawAxis(plotW, plotH);
    canvas.dataset.entries = String(drawn);
    canvas.dataset.rows = String(total);
  }

  /** Draws the entries in [t0, t1], one fillStyle per colour. Returns how many were drawn. */
  drawEntries(t0, t1, base, rowH, scale) {
    const { ctx, ring, visible, order } = this;
    const ncol = ring.colours.length;
    const counts = new Int32Array(ncol + 1);
    let n = 0;
    for (let k = 0, i = ring.first; k < ring.size; k++, i = i + 1 === ring.capacity ? 0 : i + 1) {
      if (ring.stop[i] < t0 || ring.start[i] > t1 || base[ring.worker[i]] < 0) continue;
      visible[n++] = i;
      counts[ring.colour[i] + 1]++;
    }
    for (let c = 1; c <= ncol; c++) counts[c] += counts[c - 1];
    const offsets = counts.slice();
    for (let k = 0; k < n; k++) {
      const i = visible[k];
      order[offsets[ring.colour[i]]++] = i;
    }
    const pad = rowH > 4 ? 1 : 0;
    const barH = Math.max(1, rowH - 2 * pad);
    // Rectangles of one colour that touch within half a pixel in a row are drawn as one: at
    // thousands of tasks a second most are narrower than a pixel.
    const rows = Math.ceil((this.canvas.clientHeight || 1) / rowH) + 1;
    const runX0 = new Float64Array(rows), runX1 = new Float64Array(rows).fill(-1);
    let rects = 0;
    const flush = (row) => {
      ctx.fillRect(runX0[row], row * rowH + pad, Math.max(1, runX1[row] - runX0[row]), barH);
      runX1[row] = -1;
      rects++;
    };
    for (const c of ring.drawOrder()) {
      if (counts[c + 1] === counts[c]) continue;
      ctx.fillStyle = ring.colours[c];
      for (let k = counts[c]; k < counts[c + 1]; k++) {
        const i = order[k];
        const row = base[ring.worker[i]] + ring.thread[i];
        if (row >= rows) continue;
        const x0 = GUTTER + Math.max(0, ring.start[i] - t0) * scale;
        const x1 = Math.max(x0 + 1, GUTTER + (Math.min(t1, ring.stop[i]) - t0) * scale);
        if (runX1[row] >= 0) {
          if (x0 <= runX1[row] + 0.5 && x0 >= runX0[row] - 0.5) {
            if (x1 > runX1[row]) runX1[row] = x1;
            continue;
          }
          flush(row);
        }
        runX0[row] = x0;
        runX1[row] = x1;
      }
      for (let row = 0; row < rows; row++) if (runX1[row] >= 0) flush(row);
    }
    this.canvas.dataset.rects = String(rects);
    return n;
  }

  /** Names each worker in the gutter and separates workers with a line. */
  drawLabels(rows, rowH, cssW) {
    const ctx = this.ctx;
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
        ctx.fillRect(0, r.first * rowH, cssW, 1);
      }
    }
  }

  /** Ticks along the bottom, in seconds before now. */
  drawAxis(plotW, plotH) {
    const ctx = this.ctx;
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

  /** Stops drawing. */
  close() {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
  }
}
