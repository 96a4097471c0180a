/**
 * The task stream on a canvas: one row per worker thread, one rectangle per task from its start
 * to its stop, over a sliding window that ends at the scheduler's current time. At most ten
 * frames a second, and each frame is incremental: the drawn image moves left by the time gone
 * by (in whole device pixels), the strip it uncovers is cleared, and only the entries that came
 * since the previous frame are drawn. The whole window is drawn again only when the canvas size,
 * the rows or the entries (a snapshot) change. Rectangles are grouped by colour (one fillStyle
 * per colour). No DOM per task.
 *
 * @module
 */

import { StreamRing } from "./stream_ring.js";

const BACKGROUND = "#ffffff";
const GUTTER = 120;
const AXIS = 18;
const MAX_ROW = 60;
/**
 * Draw at most this often (ms): the feed brings new entries ten times a second, and a page that
 * draws more often only takes processor time from the cluster it shows (on a small machine they
 * share the same cores).
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
    this.timer = 0;
    this.frame = 0;
    this.lastDraw = -Infinity;
    this.dirty = true;
    /**
     * What the canvas shows: its layout key, the time at its right edge and the number of the
     * first entry not drawn yet; null when the next frame draws everything.
     */
    this.image = null;
    /** Numbers of drawn entries that reach past the right edge: drawn again as it moves. */
    this.carried = [];
    /** The number of the oldest entry that may be in the window. */
    this.windowFirst = 0;
    /** The canvas's CSS size, as the resize observer last told (read once before that). */
    this.cssSize = null;
    this.resizes = typeof ResizeObserver === "function"
      ? new ResizeObserver((entries) => {
        const box = entries.at(-1).contentRect;
        this.cssSize = { w: box.width, h: box.height };
        this.invalidate();
      })
      : null;
    this.resizes?.observe(canvas);
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

  /** Asks for a frame: at the next animation frame at least FRAME_GAP after the last one. */
  invalidate() {
    this.dirty = true;
    this.schedule();
  }

  schedule() {
    if (this.timer !== 0 || this.frame !== 0) return;
    const wait = Math.max(0, this.lastDraw + FRAME_GAP - performance.now());
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.frame = requestAnimationFrame(() => this.onFrame());
    }, wait);
  }

  onFrame() {
    this.frame = 0;
    const scrolling = this.live && this.ring.size > 0;
    if (this.dirty || scrolling) {
      this.dirty = false;
      this.lastDraw = performance.now();
      this.draw();
    }
    if (scrolling || this.dirty) this.schedule();
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
    const { canvas, ctx, ring } = this;
    const dpr = globalThis.devicePixelRatio || 1;
    this.cssSize ??= { w: canvas.clientWidth, h: canvas.clientHeight };
    const cssW = this.cssSize.w, cssH = this.cssSize.h;
    const w = Math.max(1, Math.round(cssW * dpr)), h = Math.max(1, Math.round(cssH * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      this.image = null;
    }
    const now = this.now();
    ring.dropBefore(now - 2 * this.windowMs);
    const { rows, total, base } = this.layout(now - this.windowMs);
    const plotW = Math.max(1, cssW - GUTTER), plotH = Math.max(1, cssH - AXIS);
    const rowH = total > 0 ? Math.min(MAX_ROW, plotH / total) : MAX_ROW;
    const scale = plotW / this.windowMs;
    const key = `${w}x${h}@${dpr} ` + rows.map((r) => `${r.id}:${r.count}:${r.name}`).join(" ");

    const image = this.image;
    const shift = image && image.key === key ? Math.floor((now - image.t1) * scale * dpr) : -1;
    if (shift >= 0 && shift < Math.floor(plotW * dpr)) {
      const t1 = image.t1 + shift / (scale * dpr);
      this.scroll(shift, dpr, plotH);
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      this.drawEntries(t1 - this.windowMs, t1, base, rowH, scale, image.next);
      const stripX = cssW - shift / dpr;
      ctx.fillStyle = "#ccc";
      for (const r of rows) if (r.first > 0) ctx.fillRect(stripX, r.first * rowH, cssW, 1);
      image.t1 = t1;
      image.next = ring.pushed;
    } else {
      ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
      ctx.fillStyle = BACKGROUND;
      ctx.fillRect(0, 0, cssW, cssH);
      this.carried = [];
      this.drawEntries(now - this.windowMs, now, base, rowH, scale, ring.oldest);
      this.drawLabels(rows, rowH, cssW);
      this.drawAxis(plotW, plotH);
      this.image = { key, t1: now, next: ring.pushed };
    }
    canvas.dataset.entries = String(this.countInWindow(this.image.t1 - this.windowMs));
    canvas.dataset.rows = String(total);
  }

  /** Moves the plot `shift` device pixels left and clears the strip it uncovers. */
  scroll(shift, dpr, plotH) {
    if (shift === 0) return;
    const { canvas, ctx } = this;
    const x = Math.round(GUTTER * dpr), w = canvas.width - x, h = Math.floor(plotH * dpr);
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.drawImage(canvas, x + shift, 0, w - shift, h, x, 0, w - shift, h);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(canvas.width - shift, 0, shift, h);
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
   * Draws the entries in [t0, t1] from number `from` on, and those carried from the previous
   * frame, one fillStyle per colour. Entries that reach past t1 are carried to the next frame.
   */
  drawEntries(t0, t1, base, rowH, scale, from) {
    const { ctx, ring, visible, order } = this;
    const ncol = ring.colours.length;
    const counts = new Int32Array(ncol + 1);
    const carried = [];
    let n = 0;
    const consider = (seq) => {
      const i = ring.indexOf(seq);
      if (i < 0 || ring.stop[i] < t0 || base[ring.worker[i]] < 0) return;
      if (ring.stop[i] > t1) carried.push(seq);
      if (ring.start[i] > t1) return;
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
    const barH = Math.max(1, rowH - 2 * pad);
    // Rectangles of one colour that touch within half a pixel in a row are drawn as one: at
    // thousands of tasks a second most are narrower than a pixel.
    const rows = Math.ceil((this.cssSize.h || 1) / rowH) + 1;
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
    if (this.timer !== 0) clearTimeout(this.timer);
    this.frame = 0;
    this.timer = 0;
    this.resizes?.disconnect();
  }
}
