/**
 * Default timeouts shared by the parts that connect to a scheduler. Browser-safe.
 *
 * @module
 */

/**
 * How long to keep trying to reach a scheduler, and how long one handshake may take (ms): 30 s,
 * Dask's `distributed.comm.timeouts.connect`.
 */
export const DEFAULT_CONNECT_TIMEOUT = 30_000;
