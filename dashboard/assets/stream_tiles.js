/**
 * The task stream's moving plot as a ring of narrow canvases (tiles) side by side in a strip
 * that slides left by a CSS transform. Time maps to a "content" x in device pixels that only
 * grows; tile k holds content x from k·TILE to (k+1)·TILE. Scrolling moves the strip and, when
 * a tile's turn comes, clears the one that left on the left and puts it back on the right: a
 * frame repaints the few pixels of the new entries in one or two tiles, never the whole plot
 * (copying a canvas into itself to scroll it cost the browser more than all the rest of the
 * page together).
 *
 * @module
 */

/** A tile's width in device pixels. */
const TILE = 256;
const BACKGROUND = "#ffffff";
const SEPARATOR = "#cccccc";

/** The tiles in `plot` (an element that clips them; its size is the plot's). */
export class StreamTiles {
  constructor(plot) {
    this.plot = plot;
    this.strip = document.createElement("div");
    this.strip.className = "task-stream-tiles";
    plot.append(this.strip);
    /** Canvases and their 2d contexts; tile k is in slot k % tiles.length. */
    this.tiles = [];
    this.width = 0;
    this.height = 0;
    this.dpr = 1;
    /** Rows' top edges in device pixels, where a separator line goes (the first has none). */
    this.separators = [];
    /** The content x of the plot's right edge, and the highest tile number in use. */
    this.right = 0;
    this.last = -Infinity;
  }

  /**
   * Starts over: a plot `width` × `height` device pixels at `dpr`, separator lines at
   * `separators` (device pixels), right edge at content x `right`. Every tile is cleared.
   */
  reset(width, height, dpr, separators, right) {
    const n = Math.ceil(width / TILE) + 2;
    if (this.tiles.length !== n || this.height !== height || this.dpr !== dpr) {
      this.strip.replaceChildren();
      this.tiles = [];
      for (let s = 0; s < n; s++) {
        const canvas = document.createElement("canvas");
        canvas.width = TILE;
        canvas.height = Math.max(1, height);
        canvas.style.width = `${TILE / dpr}px`;
        canvas.style.height = `${height / dpr}px`;
        this.strip.append(canvas);
        this.tiles.push({ canvas, ctx: canvas.getContext("2d", { alpha: false }) });
      }
    }
    this.width = width;
    this.height = height;
    this.dpr = dpr;
    this.separators = separators;
    this.last = -Infinity;
    this.scrollTo(right);
  }

  /**
   * Slides the strip so that content x `right` is at the plot's right edge, making ready the
   * tiles that show from there back by the plot's width, and one more to the right.
   */
  scrollTo(right) {
    this.right = right;
    const n = this.tiles.length;
    const last = Math.floor(right / TILE) + 1;
    for (let k = Math.max(this.last + 1, last - n + 1); k <= last; k++) this.#take(k);
    this.last = Math.max(this.last, last);
    this.strip.style.transform = `translateX(${(this.width - right) / this.dpr}px)`;
  }

  /** The lowest content x that still has a tile, and the one past the highest. */
  get span() {
    return [(this.last - this.tiles.length + 1) * TILE, (this.last + 1) * TILE];
  }

  /**
   * Fills content x from `x0` to `x1` (device pixels), `y` to `y + h`, in `colour`, in every
   * tile it crosses; the part past the tiles in use is left out (see `span`).
   */
  fill(colour, x0, x1, y, h) {
    const [lo, hi] = this.span;
    const from = Math.max(x0, lo), to = Math.min(x1, hi);
    if (to <= from) return;
    for (let k = Math.floor(from / TILE); k * TILE < to; k++) {
      const { ctx } = this.tiles[this.#slot(k)];
      const left = k * TILE, a = Math.max(from, left) - left, b = Math.min(to, left + TILE) - left;
      ctx.fillStyle = colour;
      ctx.fillRect(a, y, b - a, h);
    }
  }

  #slot(k) {
    const n = this.tiles.length;
    return ((k % n) + n) % n;
  }

  /** Tile `k` into its slot: cleared, with the row separators, moved to its place. */
  #take(k) {
    const { canvas, ctx } = this.tiles[this.#slot(k)];
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, TILE, this.height);
    ctx.fillStyle = SEPARATOR;
    const line = Math.max(1, Math.round(this.dpr));
    for (const y of this.separators) ctx.fillRect(0, y, TILE, line);
    canvas.style.transform = `translateX(${(k * TILE) / this.dpr}px)`;
  }
}
