/**
 * The workers' part of the page: the cluster's memory bar, and a row per worker with its name
 * and address, memory (stacked against its limit, coloured by its status), tasks processing and
 * keys stored. Rows are keyed by address and updated in place.
 *
 * @module
 */

import { el, formatBytes, MemoryBar, setText, setWidth } from "./bars.js";

/** The worker rows in a `<tbody>`, and the cluster memory bar with its caption. */
export class WorkersView {
  constructor({ table, clusterBar, clusterText }) {
    this.table = table;
    this.rows = new Map();
    this.cluster = new MemoryBar();
    clusterBar.append(this.cluster.root);
    this.clusterText = clusterText;
  }

  /** Shows exactly these workers (the feed always sends all of them). */
  update(workers) {
    const present = new Set();
    const maxProcessing = Math.max(1, ...workers.map((w) => w.processing));
    const maxLimit = Math.max(1, ...workers.map((w) => w.memoryLimit || used(w.memory)));
    const total = { managed: 0, unmanaged: 0, spilled: 0 };
    let limit = 0;
    for (const w of workers) {
      present.add(w.address);
      let row = this.rows.get(w.address);
      if (!row) {
        row = this.makeRow(w.address);
        this.rows.set(w.address, row);
        this.table.append(row.root);
      }
      this.fill(row, w, maxProcessing, maxLimit);
      total.managed += w.memory.managed;
      total.unmanaged += w.memory.unmanaged;
      total.spilled += w.memory.spilled;
      limit += w.memoryLimit;
    }
    for (const [address, row] of this.rows) {
      if (!present.has(address)) {
        row.root.remove();
        this.rows.delete(address);
      }
    }
    this.cluster.set(total, limit || used(total), "running");
    const limitText = limit ? ` of ${formatBytes(limit)}` : "";
    setText(
      this.clusterText,
      `${formatBytes(total.managed + total.unmanaged)}${limitText}` +
        (total.spilled ? `, ${formatBytes(total.spilled)} spilled` : ""),
    );
  }

  fill(row, w, maxProcessing, maxLimit) {
    setText(row.name, w.name && w.name !== w.address ? w.name : "");
    setText(row.address, w.address);
    setText(row.threads, String(w.nthreads));
    row.memory.set(w.memory, w.memoryLimit || maxLimit, w.status);
    const limitText = w.memoryLimit ? ` / ${formatBytes(w.memoryLimit)}` : "";
    setText(row.memoryText, `${formatBytes(used(w.memory))}${limitText}`);
    setWidth(row.processingBar, w.processing / maxProcessing);
    setText(row.processing, String(w.processing));
    setText(row.stored, String(w.stored));
    setText(row.status, w.status);
    const cls = `worker-row status-${w.status}`;
    if (row.root.className !== cls) row.root.className = cls;
  }

  makeRow(address) {
    const root = el("tr", "worker-row");
    root.dataset.testid = "worker-row";
    root.dataset.address = address;
    const who = el("td", "worker-who");
    const name = el("span", "worker-name");
    const addr = el("span", "worker-address");
    who.append(name, addr);
    const threads = el("td", "num");
    const memoryCell = el("td", "worker-memory");
    const memory = new MemoryBar();
    const memoryText = el("span", "bar-caption");
    memoryCell.append(memory.root, memoryText);
    const processingCell = el("td", "worker-processing");
    const processingTrack = el("div", "bar");
    const processingBar = el("div", "part part-processing-worker");
    processingTrack.append(processingBar);
    const processing = el("span", "bar-caption");
    processingCell.append(processingTrack, processing);
    const stored = el("td", "num");
    const status = el("td", "worker-status");
    root.append(who, threads, memoryCell, processingCell, stored, status);
    return {
      root,
      name,
      address: addr,
      threads,
      memory,
      memoryText,
      processingBar,
      processing,
      stored,
      status,
    };
  }
}

function used(memory) {
  return memory.managed + memory.unmanaged;
}
