/**
 * The page's bars, as DOM kept and updated in place: progress per task prefix, and memory and
 * processing per worker and for the whole cluster. Each row is made once and then only its
 * widths, classes and texts change.
 *
 * @module
 */

import { prefixColour } from "./palette.js";

/** Makes an element with a class and, optionally, text. */
export function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Sets a text only when it changed (no needless layout). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Sets a width as a fraction of the parent's, only when it changed. */
export function setWidth(node, fraction) {
  const pct = `${(Math.max(0, Math.min(1, fraction)) * 100).toFixed(2)}%`;
  if (node.style.width !== pct) node.style.width = pct;
}

/** Bytes for people: 1.5 GiB, 12 MiB, 300 B. */
export function formatBytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** The parts of a progress bar, in the order they are stacked. */
const PROGRESS_PARTS = ["released", "memory", "erred", "processing", "queued", "waiting"];

/** Progress bars by task prefix, in `container`. */
export class ProgressBars {
  constructor(container) {
    this.container = container;
    this.rows = new Map();
  }

  /** Forgets every prefix that is not in `progress` (a snapshot), then updates. */
  replace(progress) {
    for (const [name, row] of this.rows) {
      if (!(name in progress)) {
        row.root.remove();
        this.rows.delete(name);
      }
    }
    this.update(progress);
  }

  /** Updates the prefixes in `progress`, adding rows for new ones. */
  update(progress) {
    for (const name of Object.keys(progress).sort()) {
      const p = progress[name];
      let row = this.rows.get(name);
      if (!row) {
        row = this.makeRow(name);
        this.rows.set(name, row);
        this.insertSorted(name, row.root);
      }
      const total = PROGRESS_PARTS.reduce((s, k) => s + (p[k] || 0), 0);
      for (const k of PROGRESS_PARTS) setWidth(row.parts[k], total ? (p[k] || 0) / total : 0);
      const done = (p.released || 0) + (p.memory || 0);
      let text = `${done} / ${total}`;
      if (p.erred) text += `, ${p.erred} erred`;
      setText(row.count, text);
      const title = PROGRESS_PARTS.map((k) => `${k}: ${p[k] || 0}`).join(", ");
      if (row.root.title !== title) row.root.title = title;
    }
  }

  insertSorted(name, node) {
    for (const child of this.container.children) {
      if (child.dataset.prefix > name) return this.container.insertBefore(node, child);
    }
    this.container.append(node);
  }

  makeRow(name) {
    const root = el("div", "progress-row");
    root.dataset.prefix = name;
    root.dataset.testid = "progress-row";
    const label = el("span", "progress-name", name);
    const bar = el("div", "bar");
    const colour = prefixColour(name);
    const parts = {};
    for (const k of PROGRESS_PARTS) {
      const part = el("div", `part part-${k}`);
      if (k === "released" || k === "memory") part.style.backgroundColor = colour;
      parts[k] = part;
      bar.append(part);
    }
    const count = el("span", "progress-count");
    root.append(label, bar, count);
    return { root, parts, count };
  }
}

/** A stacked memory bar (managed, unmanaged, spilled) against a limit; `scale` is its width. */
export class MemoryBar {
  constructor() {
    this.root = el("div", "bar memory-bar");
    this.managed = el("div", "part part-managed");
    this.unmanaged = el("div", "part part-unmanaged");
    this.spilled = el("div", "part part-spilled");
    this.root.append(this.managed, this.unmanaged, this.spilled);
  }

  /** Shows `memory` out of `scale` bytes; `status` colours it (running, paused, closing). */
  set(memory, scale, status) {
    const s = scale > 0 ? scale : 1;
    setWidth(this.managed, memory.managed / s);
    setWidth(this.unmanaged, memory.unmanaged / s);
    setWidth(this.spilled, memory.spilled / s);
    const cls = `bar memory-bar status-${status}`;
    if (this.root.className !== cls) this.root.className = cls;
  }
}
