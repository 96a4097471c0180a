/**
 * The page's end of the scheduler's live feed: a WebSocket at `ws` next to the page (so it works
 * under a path prefix, over ws: or wss:), parsed JSON messages handed on, and reconnection with
 * a growing, jittered delay whenever the socket closes (a scheduler restart).
 *
 * @module
 */

const FIRST_DELAY = 250;
const MAX_DELAY = 5_000;

/** The feed's URL for the page at `href`: `ws` beside it, with the ws/wss scheme. */
export function feedUrl(href) {
  const url = new URL("ws", href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  url.search = "";
  return url.href;
}

/**
 * Connects to the feed and keeps connecting. `onMessage(msg)` gets each message;
 * `onState(state, retryInMs)` hears "connecting", "open", and "closed" with the delay before the
 * next try. Returns a function that stops it for good.
 */
export function connectFeed(href, onMessage, onState) {
  let socket = null;
  let timer = 0;
  let delay = FIRST_DELAY;
  let stopped = false;

  const open = () => {
    timer = 0;
    if (stopped) return;
    onState("connecting", 0);
    socket = new WebSocket(feedUrl(href));
    socket.onopen = () => {
      delay = FIRST_DELAY;
      onState("open", 0);
    };
    socket.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        console.warn("dashboard: a feed message that is not JSON was ignored");
        return;
      }
      onMessage(msg);
    };
    socket.onclose = () => {
      socket = null;
      if (stopped) return;
      const wait = Math.round(delay * (0.75 + Math.random() * 0.5));
      delay = Math.min(MAX_DELAY, delay * 2);
      onState("closed", wait);
      timer = setTimeout(open, wait);
    };
  };
  open();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    socket?.close();
  };
}
