/**
 * The live dashboard's WebSockets (`<prefix>/ws`): each one, once open, joins the feed
 * (feed.ts) and leaves it when it closes. `closeAll` closes them and waits until each one has
 * closed, so that the server stops with no socket left.
 *
 * @module
 */
import type { FeedSocket } from "./feed.ts";

/** Where page sockets go once open, and leave once closed (the scheduler's feed). */
export interface FeedRoom {
  connect(socket: FeedSocket): void;
  disconnect(socket: FeedSocket): void;
}

/** How long `closeAll` waits for the pages to answer the close (ms). */
const CLOSE_WAIT = 2000;

/** The open page sockets. */
export class PageSockets {
  readonly #closed = new Map<WebSocket, Promise<void>>();
  #closing = false;

  constructor(readonly room: FeedRoom) {}

  /** Upgrades `req` to a page socket; a request that is no WebSocket upgrade gets a 400. */
  accept(req: Request): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("this is the live dashboard's WebSocket: connect with a WebSocket", {
        status: 400,
      });
    }
    if (this.#closing) return new Response("the scheduler is closing", { status: 503 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    const closed = Promise.withResolvers<void>();
    this.#closed.set(socket, closed.promise);
    socket.onopen = () => {
      if (this.#closing) socket.close(1001, "the scheduler is closing");
      else this.room.connect(socket);
    };
    socket.onclose = () => {
      this.room.disconnect(socket);
      this.#closed.delete(socket);
      closed.resolve();
    };
    socket.onerror = () => {}; // a page gone without a close frame: its close event follows
    return response;
  }

  /** Open (or opening) sockets. */
  get size(): number {
    return this.#closed.size;
  }

  /** Closes every socket and waits (up to 2 s) for each one to close. */
  async closeAll(): Promise<void> {
    this.#closing = true;
    const waits = [...this.#closed.values()];
    for (const socket of this.#closed.keys()) {
      this.room.disconnect(socket);
      if (socket.readyState === WebSocket.OPEN) socket.close(1001, "the scheduler is closing");
    }
    if (waits.length === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => timer = setTimeout(resolve, CLOSE_WAIT));
    await Promise.race([Promise.all(waits), late]);
    clearTimeout(timer);
  }
}
