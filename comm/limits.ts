/**
 * The TCP transport's default limits and timeouts, in one place.
 *
 * What a peer can make this process hold is bounded before it has proven anything:
 * - an unauthenticated connection (one whose first packet, the handshake, has not arrived
 *   whole) may declare at most MAX_FIRST_PACKET bytes and MAX_FIRST_FRAMES frames, and holds
 *   1 KiB until the bytes it declared actually arrive;
 * - a listener keeps at most DEFAULT_MAX_UNAUTHENTICATED such connections, dropping the oldest;
 * - every declared length is checked against the others before anything is allocated, and a
 *   packet's buffers grow with the bytes received (at most about twice those bytes plus
 *   EAGER_REGION; three times for the moment the staged half of a large region is copied into
 *   its final buffer), never with the bytes merely declared;
 * - a connection that stops sending in the middle of a packet is dropped after
 *   DEFAULT_STALL_TIMEOUT ms (idle time between packets is fine).
 */

/** Largest frame accepted by default (1 GiB); a transport's `maxFrame` option overrides it. */
export const DEFAULT_MAX_FRAME = 1024 ** 3;

/** Largest msgpack header of one batch accepted. */
export const MAX_HEADER = 512 * 1024 * 1024;

/** Most frames one packet may declare. */
export const MAX_FRAMES = 1 << 20;

/**
 * Largest first packet of a stream. It holds the handshake (hello, welcome or refused), which
 * is small (a few hundred bytes; the limit leaves room for long names). Nothing is allocated
 * for it before its bytes arrive, so this bounds what a pending connection can ever hold.
 */
export const MAX_FIRST_PACKET = 128 * 1024;

/** Most frames a first packet may declare (a handshake has none). */
export const MAX_FIRST_FRAMES = 16;

/**
 * Most bytes a port that answered an HTTP or TLS greeting reads (and drops) before it closes:
 * what is left of the request, so that closing sends no reset that destroys the answer.
 */
export const GREETING_DRAIN = 64 * 1024;

/** The read buffer of a connection once its first packet has arrived. */
export const READ_BUFFER = 64 * 1024;

/** The read buffer of a connection until its first packet has arrived. */
export const FIRST_READ_BUFFER = 1024;

/**
 * A header or frame region up to this size is allocated whole once its first byte arrives;
 * a larger one is received in growing chunks until half of it is in, then moved into its final
 * buffer. In a first packet the threshold is FIRST_READ_BUFFER.
 */
export const EAGER_REGION = 1024 * 1024;

/**
 * Staging chunks (of EAGER_REGION bytes or more) kept for reuse once copied out, at most this
 * many bytes in all per process. A fresh page costs a page fault when first written (~2.6 ms per
 * MB on a small VM, more than the socket copy itself); with warm staging chunks, a large region
 * costs about what reading it straight into its final buffer did.
 */
export const SPARE_STAGING = 64 * 1024 * 1024;

/** Frame regions at least this large are read into shared memory (threads see them uncopied). */
export const SHARED_MIN = 64 * 1024;

/**
 * How long a connection may send nothing in the middle of a packet before it is dropped, in ms
 * (as Dask's comm timeout, 30 s). Transports and listeners take a `stallTimeout` option.
 */
export { DEFAULT_STALL_TIMEOUT } from "./timeouts.ts";

/**
 * Most connections one listener keeps that have not yet sent their first packet whole; over
 * it, the oldest such connection is dropped (a flood cannot lock out a real handshake, which
 * takes milliseconds). Listeners take a `maxUnauthenticated` option.
 */
export const DEFAULT_MAX_UNAUTHENTICATED = 256;
