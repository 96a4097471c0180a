/**
 * One animation frame at a time for every part of the page, at most one every `gap` ms: the
 * task stream and the text and bars change in the same frame. Each frame costs the browser
 * several milliseconds whatever changed in it (style, layout, compositing, a software-rendered
 * display), and on a small machine those milliseconds are the cluster's.
 *
 * @module
 */

/** Runs the parts that asked, together, at the next animation frame at least `gap` ms after the last. */
export class FrameLoop {
  constructor(gap) {
    this.gap = gap;
    this.parts = new Set();
    this.timer = 0;
    this.frame = 0;
    this.last = -Infinity;
  }

  /**
   * Runs `part(now)` in the next frame; when it returns true it runs in the one after as well
   * (it keeps moving).
   */
  request(part) {
    this.parts.add(part);
    if (this.timer !== 0 || this.frame !== 0) return;
    const wait = Math.max(0, this.last + this.gap - performance.now());
    this.timer = setTimeout(() => {
      this.timer = 0;
      this.frame = requestAnimationFrame(() => this.#run());
    }, wait);
  }

  #run() {
    this.frame = 0;
    this.last = performance.now();
    const parts = [...this.parts];
    this.parts.clear();
    const again = parts.filter((part) => part(this.last) === true);
    for (const part of again) this.request(part);
  }

  /** Stops: no frame is run any more. */
  close() {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    if (this.timer !== 0) clearTimeout(this.timer);
    this.frame = this.timer = 0;
    this.parts.clear();
    this.request = () => {};
  }
}
