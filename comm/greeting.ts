/**
 * Foreign greetings on a dtask TCP stream: the first bytes of an HTTP request or response, or of
 * a TLS record, where the length prefix of a dtask packet was expected. The TCP transport asks
 * only about bytes that cannot begin a dtask first packet (a declared length over the first
 * packet's limit, a prefix that fails its checks, a stream that ended inside it), so a real
 * handshake is never taken for one. Browser-safe (no Deno).
 *
 * @module
 */
import { ProtocolError, WrongRoleError } from "../core/errors.ts";
import { GREETING_DRAIN } from "./limits.ts";
import { GREETING_LINGER } from "./timeouts.ts";

/** What the first bytes of a stream were, when they were not dtask's. */
export type Greeting =
  | { kind: "http-request"; method: string }
  | { kind: "http-response" }
  | { kind: "tls-client" }
  | { kind: "tls-server" };

/** The scheduler's default port, named when a tcp:// address reached an HTTP server. */
const DEFAULT_SCHEDULER_PORT = 8786;

const HTTP_METHODS: ReadonlySet<string> = new Set([
  "GET",
  "HEAD",
  "POST",
  "PUT",
  "DELETE",
  "OPTIONS",
  "PATCH",
  "CONNECT",
  "TRACE",
  "PRI", // the HTTP/2 connection preface
]);

/** TLS content types: an alert, a handshake message. */
const TLS_ALERT = 0x15, TLS_HANDSHAKE = 0x16;
/** The handshake message a TLS client opens with. */
const CLIENT_HELLO = 0x01;

/**
 * A fatal TLS alert (handshake_failure), the answer a TLS client gets from a dtask port: its
 * library reports the handshake failed instead of a connection reset.
 */
const TLS_HANDSHAKE_FAILURE = new Uint8Array([TLS_ALERT, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]);

/** What the first bytes of a stream are, or null when they are none of the known greetings. */
export function recogniseGreeting(b: Uint8Array): Greeting | null {
  // a TLS record: its content type, then the protocol version 3.x (SSL 3.0 to TLS 1.3)
  if (b.length >= 3 && (b[0] === TLS_ALERT || b[0] === TLS_HANDSHAKE) && b[1] === 0x03) {
    if (b[2] > 0x04) return null;
    if (b[0] === TLS_ALERT) return { kind: "tls-server" };
    if (b.length < 6) return null; // the handshake message's type is the sixth byte
    return b[5] === CLIENT_HELLO ? { kind: "tls-client" } : { kind: "tls-server" };
  }
  const text = String.fromCharCode(...b.subarray(0, 9));
  if (text.startsWith("HTTP/")) return { kind: "http-response" };
  const method = /^([A-Z]+) /.exec(text)?.[1];
  return method !== undefined && HTTP_METHODS.has(method) ? { kind: "http-request", method } : null;
}

/**
 * The error a foreign greeting from `peer` (`tcp://host:port`) ends its stream with: on a dialled
 * connection (an HTTP or TLS server answered) a WrongRoleError saying what answered; on an
 * accepted one a ProtocolError saying what arrived.
 */
export function greetingError(g: Greeting, peer: string): ProtocolError {
  switch (g.kind) {
    case "http-response": {
      const host = peer.slice(0, peer.lastIndexOf(":"));
      return new WrongRoleError(
        `${peer} answered as an HTTP server (is it the dashboard? the scheduler is at ` +
          `${host}:${DEFAULT_SCHEDULER_PORT} by default)`,
        "HTTP server",
      );
    }
    case "tls-server":
      return new WrongRoleError(
        `${peer} answered with TLS: it is a TLS server, and a tcp:// address speaks plain TCP; ` +
          `dial it as tls://host:port and give the cluster's CA (tls.caCerts or --tls-ca-file)`,
        "TLS server",
      );
    case "http-request":
      return new ProtocolError(
        `${peer} sent an HTTP ${g.method} request to a dtask TCP port: answered 400 and closed`,
      );
    case "tls-client":
      return new ProtocolError(
        `${peer} began a TLS handshake on a dtask TCP port, which speaks plain TCP: closed ` +
          `(dial it as tcp://, or start the cluster with TLS)`,
      );
  }
}

/**
 * The bytes that answer a greeting before the stream closes: to an HTTP request, a 400 response
 * whose body is `describePort()` (what this port is and where to go); to a TLS client, a fatal
 * alert; to a server, nothing.
 */
export function greetingAnswer(g: Greeting, describePort: () => string): Uint8Array | null {
  if (g.kind === "tls-client") return TLS_HANDSHAKE_FAILURE;
  if (g.kind !== "http-request") return null;
  const body = new TextEncoder().encode(`${describePort()}\n`);
  const head = new TextEncoder().encode(
    "HTTP/1.1 400 Bad Request\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\n" +
      `Content-Length: ${body.length}\r\n` +
      "Connection: close\r\n\r\n",
  );
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** The parts of a connection `answerAndLinger` uses (a Deno.Conn has them). */
export interface Socket {
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  read(into: Uint8Array): Promise<number | null>;
}

/**
 * Writes `answer`, ends our side, and reads (and drops) what the peer still sends until it
 * closes, at most GREETING_DRAIN bytes for at most GREETING_LINGER ms (then `close` ends the
 * socket): closing with its bytes unread would send a reset, which can destroy the answer
 * before the peer reads it. Never throws.
 */
export async function answerAndLinger(
  socket: Socket,
  answer: Uint8Array,
  close: () => void,
): Promise<void> {
  const timer = setTimeout(close, GREETING_LINGER);
  try {
    let off = 0;
    while (off < answer.length) off += await socket.write(answer.subarray(off));
    await socket.closeWrite();
    const sink = new Uint8Array(4096);
    let left = GREETING_DRAIN;
    for (let r; left > 0 && (r = await socket.read(sink)) !== null;) left -= r;
  } catch {
    /* closed meanwhile, or the peer is gone */
  } finally {
    clearTimeout(timer);
  }
}

/** What an HTTP request to a dtask TCP port is told when its listener says nothing more. */
export const DTASK_PORT = "this is a dtask TCP port, not an HTTP server: connect a dtask Client " +
  "or Worker to it with its tcp:// address";
