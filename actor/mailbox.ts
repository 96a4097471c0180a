/**
 * What every event-loop actor shares: one stimulus handled at a time (a stimulus posted while
 * another is being handled waits its turn), and a connection's messages fed in as one reused
 * stimulus object, so the hot path allocates nothing per message.
 *
 * @module
 */

/** A stimulus that carries one message of a connection; each connection reuses one object. */
export interface MessageStimulus<M> {
  msg: M | null;
}

/** How an actor handles its stimuli. */
export interface MailboxHandlers<S> {
  /** Handles one stimulus; a throw reaches the caller of `receive`. */
  handle(s: S): void;
  /** A stimulus that waited in the mailbox threw, after its poster had returned. */
  failed(s: S, error: unknown): void;
}

/** Runs an actor's stimuli one at a time, in the order they arrive. */
export class Mailbox<S extends object> {
  #busy = false;
  readonly #waiting: S[] = [];

  constructor(private readonly handlers: MailboxHandlers<S>) {}

  /**
   * Handles `s` now, or after the stimulus being handled (and those before it) when one is. A
   * reused message stimulus is copied when it has to wait.
   */
  receive(s: S): void {
    if (this.#busy) {
      this.#waiting.push("msg" in s ? { ...s } : s);
      return;
    }
    this.#busy = true;
    try {
      this.handlers.handle(s);
    } finally {
      if (this.#waiting.length) this.#drain();
      this.#busy = false;
    }
  }

  #drain(): void {
    const box = this.#waiting;
    for (let i = 0; i < box.length; i++) {
      try {
        this.handlers.handle(box[i]);
      } catch (e) {
        this.handlers.failed(box[i], e);
      }
    }
    box.length = 0;
  }
}

/**
 * Feeds each message a connection reads to `receive` as the reused stimulus `s` (its `msg` is
 * cleared after each, so no message outlives its handling).
 */
export function feedMessages<M, S extends MessageStimulus<M>>(
  conn: { start(handler: (msg: M) => void): void },
  s: S,
  receive: (s: S) => void,
): void {
  conn.start((msg) => {
    s.msg = msg;
    receive(s);
    s.msg = null;
  });
}
