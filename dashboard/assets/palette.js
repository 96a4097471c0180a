/**
 * Colours of the dashboard: one per task prefix, picked by a stable hash of its name (the same
 * prefix gets the same colour on every page and every reload), and fixed ones for transfers,
 * disk I/O and errors.
 *
 * @module
 */

/**
 * Sixteen colours that tell apart on white: Bokeh's Category20 (as Dask uses) without its oranges
 * and olives, which the disk-write and disk-read kinds use.
 */
const PREFIX_COLOURS = [
  "#1f77b4",
  "#aec7e8",
  "#2ca02c",
  "#98df8a",
  "#9467bd",
  "#c5b0d5",
  "#8c564b",
  "#c49c94",
  "#e377c2",
  "#f7b6d2",
  "#7f7f7f",
  "#c7c7c7",
  "#17becf",
  "#9edae5",
  "#393b79",
  "#637939",
];

/** Colours of the non-compute task-stream kinds, by `FeedStream.kind` number (0 is compute). */
export const KIND_COLOURS = ["", "#000000", "#d62728", "#ff9900", "#e6b800"];

/** The stream kinds' names, by number, as in the feed protocol. */
export const KIND_NAMES = ["compute", "erred", "transfer", "disk-write", "disk-read"];

/** A 32-bit hash of a string: FNV-1a, then mixed so that its low digits vary for short names. */
export function hashName(name) {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The colour of a task prefix: always the same one for the same name. */
export function prefixColour(name) {
  return PREFIX_COLOURS[hashName(name) % PREFIX_COLOURS.length];
}
