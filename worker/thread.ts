/**
 * The Web Worker script of an executor thread (a module worker): it starts a ThreadRunner
 * (thread_runner.ts), which receives batches of tasks, runs one task at a time in arrival
 * order, and posts the outcomes back in batches. Nothing a task does may kill the thread:
 * stray errors and rejections are prevented and reported, and a thread that closes itself says
 * so first. What tasks print is prefixed with their key (or dropped).
 */
import type { FromThread, ToThread } from "../comm/protocol/worker_thread.ts";
import { ThreadRunner } from "./thread_runner.ts";

/** The part of the worker global scope this script uses (typed here to stay lib-neutral). */
interface ThreadScope {
  postMessage(message: FromThread, transfer?: Transferable[]): void;
  close(): void;
  addEventListener(type: string, listener: (e: any) => void): void;
}

/** Prefixes (or drops) console output while a task runs. */
function patchConsole(runner: ThreadRunner): void {
  const c = console as unknown as Record<string, (...args: unknown[]) => void>;
  for (const m of ["log", "info", "warn", "error", "debug"]) {
    const orig = c[m].bind(console);
    c[m] = (...args: unknown[]) => {
      if (runner.silenced) return;
      const key = runner.taskKey;
      if (key === undefined) return orig(...args);
      const prefix = `[${key.replaceAll("%", "%%")}]`;
      if (typeof args[0] === "string") orig(`${prefix} ${args[0]}`, ...args.slice(1));
      else orig(prefix, ...args);
    };
  }
}

/** Starts the thread: listeners, console, close/exit reporting. */
function main(): void {
  const scope = globalThis as unknown as ThreadScope;
  const runner = new ThreadRunner((msg, transfer) =>
    transfer ? scope.postMessage(msg, transfer) : scope.postMessage(msg)
  );
  patchConsole(runner);
  scope.addEventListener("message", (e: MessageEvent<ToThread>) => runner.receive(e.data));
  scope.addEventListener("unhandledrejection", (e: PromiseRejectionEvent) => {
    e.preventDefault();
    runner.stray(e.reason);
  });
  scope.addEventListener("error", (e: ErrorEvent) => {
    e.preventDefault();
    runner.stray(e.error ?? new Error(e.message));
  });
  // A thread that closes itself stops silently: say so first, so the executor replaces it.
  const close = scope.close.bind(scope);
  scope.close = () => {
    scope.postMessage({ op: "closing", reason: "close() was called in the thread" });
    close();
  };
  scope.addEventListener("unload", () => {
    scope.postMessage({ op: "closing", reason: "the thread exited (Deno.exit?)" });
  });
  scope.postMessage({ op: "ready" });
}

if (typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== "undefined") {
  main();
}
