/**
 * V8's collector, when the process runs with `--v8-flags=--expose-gc` (the worker processes a
 * nanny starts do), else null. A worker calls it after dropping a large value: V8 frees a
 * buffer's memory only when it collects the buffer, which on its own may come much later, and
 * until then every new large value needs fresh pages from the kernel (on a virtual machine these
 * can cost several times more to touch than pages just freed).
 *
 * @module
 */
const g = globalThis as { gc?: () => void };

/** A full collection, or null when the runtime does not offer one. */
export const collectGarbage: (() => void) | null = typeof g.gc === "function" ? g.gc : null;
