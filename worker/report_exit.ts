/**
 * A nanny outside the scheduler's process tells the scheduler how its worker's process ended, so
 * that a KilledWorker names the exit code or signal. Best effort: a scheduler that
 * cannot be reached is not told.
 *
 * @module
 */
import { Connection } from "../comm/connection.ts";
import { sendHello, withTimeout } from "../comm/handshake.ts";
import { dial } from "../comm/dial.ts";
import type { TlsDialOptions } from "../comm/tls_options.ts";
import { EXIT_REPORT_TIMEOUT } from "../comm/timeouts.ts";

/** Connects to `scheduler` as a client named "nanny", sends `worker-exited`, and leaves. */
export async function reportExit(
  scheduler: string,
  address: string,
  how: string,
  authToken?: string,
  tls?: TlsDialOptions,
): Promise<void> {
  try {
    const dialing = dial(scheduler, tls ? { tls } : {});
    const t = await withTimeout(dialing, EXIT_REPORT_TIMEOUT, `connecting to ${scheduler}`);
    try {
      await sendHello(t, { role: "client", name: "nanny", token: authToken }, EXIT_REPORT_TIMEOUT);
    } catch (e) {
      t.close();
      throw e;
    }
    const conn = new Connection(t);
    conn.start(() => {}); // nothing it says matters here
    conn.send({ op: "worker-exited", address, how });
    conn.send({ op: "close-client" });
    await conn.drainAndClose("reported");
    await conn.finished();
  } catch { /* the scheduler is gone: nobody to tell */ }
}
