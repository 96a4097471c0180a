/**
 * The nanny as an event-loop actor: every input (start and stop, each line its worker process
 * prints, the process's exit, its timers) enters through `receive`, one at a time, and no
 * continuation changes its state.
 *
 * @module
 */
import { Mailbox } from "../actor/mailbox.ts";
import { type TimerRelease, timerRelease } from "../comm/unref.ts";
import {
  MEMORY_MONITOR_INTERVAL,
  NANNY_START_PAST_DEATH,
  NANNY_START_TIMEOUT,
  STOP_GRACE,
} from "../comm/timeouts.ts";
import { TimeoutError } from "../core/errors.ts";
import { memoryExit, memoryRestartLine } from "../core/memory_budget.ts";
import { TextLineStream } from "./lines.ts";
import { describeExit, EXIT_DONE, EXIT_LOST, EXIT_RESTART } from "./exit_codes.ts";
import { type NannyOptions, workerCommand } from "./nanny_command.ts";
import { DEFAULT_MEMORY_FRACTIONS, resolveMemoryConfig } from "./memory_config.ts";
import { memoryVerdict } from "./memory_verdict.ts";
import { processRss } from "./process_memory.ts";

/** One worker process of a nanny, from its spawn to its end. */
interface Run {
  readonly child: Deno.ChildProcess;
  /** starting: until its hello line; stopping: asked to end; ended: exited, output read. */
  phase: "starting" | "running" | "stopping" | "ended";
  /** The `start()` awaiting this run (null for a restart nobody awaits). */
  starter: PromiseWithResolvers<void> | null;
  /** Started in place of a process that asked to restart: a failed start is a failure. */
  readonly renewal: boolean;
  /** Why its start failed; `start()` rejects with it once the process has ended. */
  startError: Error | null;
  /** Resolves with how it ended ("exit code 1"), for `onStarted`. */
  readonly exit: PromiseWithResolvers<string>;
  status: Deno.CommandStatus | null;
  outputDone: boolean;
  helloSeen: boolean;
  stdinClosed: boolean;
  /** Its end is reported to no one (stopped on purpose, or its start failed). */
  quiet: boolean;
  /** A new process starts once this one has ended (it asked to restart). */
  renew: boolean;
  startTimer: ReturnType<typeof setTimeout> | undefined;
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** Reads its memory while it runs, when a terminate threshold is set. */
  rssTimer: ReturnType<typeof setInterval> | undefined;
  /** A read of its memory is in flight: ticks meanwhile are skipped. */
  rssReading: boolean;
  /** Sent SIGTERM for memory, holding `rss` bytes: its end is a failure, described so. */
  memoryKill: { rss: number } | null;
  /** `stop()` calls waiting for its end. */
  readonly stoppers: PromiseWithResolvers<void>[];
}

/** Everything a nanny reacts to. */
export type NannyStimulus =
  | { kind: "start"; done: PromiseWithResolvers<void> }
  | { kind: "stop"; done: PromiseWithResolvers<void> }
  | { kind: "line"; run: Run; line: string }
  | { kind: "output-ended"; run: Run }
  | { kind: "exited"; run: Run; status: Deno.CommandStatus }
  | { kind: "start-timeout"; run: Run }
  | { kind: "grace-over"; run: Run }
  | { kind: "rss-tick"; run: Run }
  | { kind: "rss"; run: Run; rss: number | null };

/** What a nanny reports to its owner. */
export interface NannyReports {
  /** The worker process ended without being asked to. */
  failed(error: unknown): void;
  /** The worker process ended on its own and wants no restart (retired). */
  exited(): void;
}

/** The nanny's state and its one entry, `receive`; `Nanny` is its public face. */
export class NannyActor {
  /** The worker's address once started. */
  workerAddress = "";
  /** The worker process id once started. */
  pid = 0;
  #run: Run | null = null;
  #stopping = false;
  readonly #mailbox = new Mailbox<NannyStimulus>({
    handle: (s) => this.#handle(s),
    failed: (s, e) => console.error(`nanny: handling ${s.kind} failed:`, e),
  });

  readonly #release: TimerRelease;
  /** The bytes of memory past which the worker process is restarted (null: never). */
  readonly #terminateAt: number | null;

  /** An actor that starts the worker process `options` describes when it receives "start". */
  constructor(readonly options: NannyOptions, private readonly reports: NannyReports) {
    this.#release = timerRelease(options.keepAlive !== false);
    this.#terminateAt = resolveMemoryConfig(options.memoryLimit, options).terminate;
  }

  /** Kills the worker process at once (for tests of failure). */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    const run = this.#run;
    if (run && run.phase !== "ended") signalQuietly(run.child, signal);
  }

  /** The nanny's one entry: every input passes here, one at a time. */
  receive(s: NannyStimulus): void {
    this.#mailbox.receive(s);
  }

  #handle(s: NannyStimulus): void {
    switch (s.kind) {
      case "start":
        return this.#start(s.done);
      case "stop":
        return this.#stop(s.done);
      case "line":
        return this.#line(s.run, s.line);
      case "output-ended":
        s.run.outputDone = true;
        return this.#maybeEnded(s.run);
      case "exited":
        return this.#exited(s.run, s.status);
      case "start-timeout":
        if (s.run.phase === "starting") this.#failStart(s.run, this.#startTimeoutError());
        return;
      case "grace-over":
        if (s.run.phase !== "ended") signalQuietly(s.run.child, "SIGKILL");
        return;
      case "rss-tick":
        return this.#rssTick(s.run);
      case "rss":
        return this.#rss(s.run, s.rss);
    }
  }

  #start(done: PromiseWithResolvers<void>): void {
    if (this.#run && this.#run.phase !== "ended") {
      return done.reject(new Error("this nanny's worker process is already running"));
    }
    this.#stopping = false;
    this.#spawn(done);
  }

  #spawn(starter: PromiseWithResolvers<void> | null): void {
    this.workerAddress = ""; // a restarted process listens elsewhere
    let child: Deno.ChildProcess;
    try {
      child = workerCommand(this.options).spawn();
    } catch (e) {
      if (starter) starter.reject(e);
      else this.reports.failed(e);
      return;
    }
    this.pid = child.pid;
    if (this.options.keepAlive === false) child.unref();
    const run: Run = {
      child,
      phase: "starting",
      starter,
      renewal: starter === null,
      startError: null,
      exit: Promise.withResolvers<string>(),
      status: null,
      outputDone: false,
      helloSeen: false,
      stdinClosed: false,
      quiet: false,
      renew: false,
      startTimer: undefined,
      graceTimer: undefined,
      rssTimer: undefined,
      rssReading: false,
      memoryKill: null,
      stoppers: [],
    };
    this.#run = run;
    run.startTimer = setTimeout(
      () => this.receive({ kind: "start-timeout", run }),
      this.#startTimeout(),
    );
    this.#release(run.startTimer);
    void this.#readOutput(run);
    child.status.then((status) => this.receive({ kind: "exited", run, status }));
  }

  /** Posts each line the process prints, then the end of its output. */
  async #readOutput(run: Run): Promise<void> {
    try {
      const lines = run.child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
        new TextLineStream(),
      );
      for await (const line of lines) this.receive({ kind: "line", run, line });
    } catch { /* the pipe broke: the process is gone */ }
    this.receive({ kind: "output-ended", run });
  }

  #line(run: Run, line: string): void {
    if (run.helloSeen) {
      if (!this.options.silenceLogs) (this.options.log ?? console.log)(line);
      return;
    }
    run.helloSeen = true; // the first line is the process's hello: its address
    if (run.phase !== "starting") return;
    let address: unknown;
    try {
      address = (JSON.parse(line) as { address?: unknown })?.address;
    } catch { /* not a hello */ }
    if (typeof address !== "string") {
      return this.#failStart(
        run,
        new Error(`worker process printed ${JSON.stringify(line)} at start`),
      );
    }
    if (run === this.#run) this.workerAddress = address;
    this.#started(run);
  }

  #started(run: Run): void {
    clearTimeout(run.startTimer);
    run.phase = "running";
    if (this.#terminateAt !== null) {
      const every = this.options.memoryMonitorInterval ?? MEMORY_MONITOR_INTERVAL;
      run.rssTimer = setInterval(() => this.receive({ kind: "rss-tick", run }), every);
      this.#release(run.rssTimer);
    }
    if (this.workerAddress) this.options.onStarted?.(this.workerAddress, run.exit.promise);
    run.starter?.resolve();
    run.starter = null;
  }

  #exited(run: Run, status: Deno.CommandStatus): void {
    run.status = status;
    const how = run.memoryKill ? this.#memoryExit(run.memoryKill.rss) : describeExit(status);
    run.exit.resolve(how);
    const restart = status.code === EXIT_RESTART && !status.signal;
    if (run.phase === "starting") {
      // asked to restart right after it registered, before its hello reached us: it did start
      if (restart) this.#started(run);
      else {
        run.startError ??= new Error(`worker process exited at start (${describeExit(status)})`);
        run.quiet = true;
      }
    }
    if (run.phase === "running" && !run.quiet && !this.#stopping) {
      run.quiet = true;
      if (run.memoryKill) {
        // whatever its exit code: a worker that ends on SIGTERM exits as if retired
        this.reports.failed(new Error(`worker process ${run.child.pid} ${how}`));
      } else if (status.code === EXIT_DONE && !status.signal) {
        this.reports.exited(); // told to stop for good (retired, scheduler closing): no restart
      } else if (restart) {
        run.renew = true; // asked to restart (client.restart()): not a failure
      } else {
        const what = status.code === EXIT_LOST && !status.signal ? "lost its scheduler" : "died";
        this.reports.failed(
          new Error(`worker process ${run.child.pid} ${what} (${describeExit(status)})`),
        );
      }
    }
    this.#maybeEnded(run);
  }

  /** Once the process has exited and its output is read: settle who waits, renew if asked. */
  #maybeEnded(run: Run): void {
    if (run.phase === "ended" || !run.status || !run.outputDone) return;
    run.phase = "ended";
    clearTimeout(run.startTimer);
    clearTimeout(run.graceTimer);
    clearInterval(run.rssTimer);
    this.#closeStdin(run);
    if (run.starter) {
      run.starter.reject(run.startError ?? new Error("the worker process ended at start"));
      run.starter = null;
    } else if (run.renewal && run.startError && !this.#stopping) {
      this.reports.failed(run.startError);
    }
    for (const s of run.stoppers) s.resolve();
    run.stoppers.length = 0;
    if (run.renew && run === this.#run && !this.#stopping) this.#spawn(null);
  }

  /** Reads the running process's memory; the reading comes back as an "rss" stimulus. */
  #rssTick(run: Run): void {
    if (run.phase !== "running" || run.rssReading) return;
    run.rssReading = true;
    const pid = run.child.pid;
    processRss(pid).then((rss) => this.receive({ kind: "rss", run, rss }));
  }

  /**
   * Past the terminate threshold the process is asked to end (SIGTERM) and restarted as a
   * failure; still past it at the next reading, it is killed (Dask's NannyMemoryManager).
   */
  #rss(run: Run, rss: number | null): void {
    run.rssReading = false;
    if (run.phase !== "running" || run !== this.#run || this.#terminateAt === null) return;
    switch (memoryVerdict(rss, this.#terminateAt, run.memoryKill !== null)) {
      case "ok":
        return;
      case "term":
        run.memoryKill = { rss: rss! };
        this.#warn(memoryRestartLine(this.workerAddress, run.child.pid, this.#fraction()));
        return signalQuietly(run.child, "SIGTERM");
      case "kill":
        this.#warn(
          `Worker ${this.workerAddress} (pid=${run.child.pid}) is slow to accept ` +
            "SIGTERM; sending SIGKILL",
        );
        return signalQuietly(run.child, "SIGKILL");
    }
  }

  /** The terminate fraction (of memoryLimit) in effect. */
  #fraction(): number {
    const f = this.options.memoryTerminate;
    return typeof f === "number" ? f : DEFAULT_MEMORY_FRACTIONS.memoryTerminate;
  }

  #memoryExit(rss: number): string {
    return memoryExit(this.#fraction(), rss, this.options.memoryLimit ?? 0);
  }

  /** The nanny's own warnings (Dask logs them as warnings; quiet with silenceLogs). */
  #warn(line: string): void {
    if (!this.options.silenceLogs) console.warn(line);
  }

  #stop(done: PromiseWithResolvers<void>): void {
    this.#stopping = true;
    const run = this.#run;
    if (!run || run.phase === "ended") return done.resolve();
    run.stoppers.push(done);
    run.quiet = true;
    if (run.phase === "starting") {
      run.startError ??= new Error("the nanny was stopped while its worker process started");
    }
    this.#terminate(run);
  }

  #failStart(run: Run, error: Error): void {
    run.startError ??= error;
    run.quiet = true;
    this.#terminate(run);
  }

  /** Asks the process to end (stdin closed, SIGTERM), and kills it past the grace period. */
  #terminate(run: Run): void {
    if (run.phase === "stopping" || run.phase === "ended") return;
    run.phase = "stopping";
    clearTimeout(run.startTimer);
    this.#closeStdin(run);
    signalQuietly(run.child, "SIGTERM");
    run.graceTimer = setTimeout(() => this.receive({ kind: "grace-over", run }), STOP_GRACE);
    this.#release(run.graceTimer);
  }

  #closeStdin(run: Run): void {
    if (run.stdinClosed) return;
    run.stdinClosed = true;
    run.child.stdin.close().catch(() => {/* already closed */});
  }

  #startTimeout(): number {
    const o = this.options;
    return o.startTimeout ??
      Math.max(NANNY_START_TIMEOUT, (o.deathTimeout ?? 0) + NANNY_START_PAST_DEATH);
  }

  #startTimeoutError(): TimeoutError {
    return new TimeoutError(
      `starting the worker process timed out after ${this.#startTimeout()} ms`,
    );
  }
}

function signalQuietly(child: Deno.ChildProcess, signal: Deno.Signal): void {
  try {
    child.kill(signal);
  } catch { /* already gone */ }
}
