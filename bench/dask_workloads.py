#!/usr/bin/python3
"""The Dask side of `deno task bench` (bench/run.ts): the same workloads on Dask's LocalCluster.

Run with the system interpreter (bench/setup-dask.sh installs Debian's python3-distributed):

    /usr/bin/python3 bench/dask_workloads.py --queuing on|off --reps N --only a,b,c,d,e,f,g,k

Prints one JSON object on stdout; every diagnostic goes to stderr. Every cluster, client and
scheduler process it starts is closed before it exits, also on error (try/finally, and a
watchdog that turns an overrun of --timeout into an exception so the finally blocks still run).
All traffic is on 127.0.0.1.

Workloads (shape: LocalCluster, 2 worker processes x 1 thread, host 127.0.0.1, no dashboard):
  a  client.map(noop, 10,000 ints, pure=False) + gather              -> tasks/s
  b  500 sequential client.submit(noop, i, pure=False).result()      -> us per round trip
  c  4,096-leaf pairwise tree reduction as futures (8,191 tasks)     -> tasks/s
  d  100 MiB `bytes` made on worker 1, len() read by a task pinned to worker 2
     (producer already in memory; timed from submit of the reader to its result) -> MB/s
  e  LocalCluster(...) + Client + first result of a trivial task; then close -> s, s
     (a fresh cluster every time)
  f  a scheduler in its own process with no worker (as on the dtask side): one blocker task
     that never runs (no worker) and 100,000 tasks depending on it; scheduler RSS before/after
     -> bytes per waiting task; first submit until the scheduler reports all of them known
     -> tasks/s
  g  (queuing on only) spill and unspill throughput of 1 GiB through a 256 MiB worker
     (bench/dask_spill.py)                                          -> MB/s, MB/s
  k  (queuing on only) 2,000 sequential distributed.Lock acquire() + release() pairs on one
     uncontended Lock, from the client, on a cluster of its own    -> pairs/s
  l  (queuing on only) a Counter actor (client.submit(Counter, actor=True)) on a fresh cluster:
     2,000 sequential counter.increment().result() calls from the client, and 2,000 made at
     once and then awaited                                          -> calls/s, calls/s
a-d run on one cluster, each with one untimed warm-up run first; e, f and l warm up once too.
Repetitions, as on the dtask side: a-d --reps; e min(--reps, 3); f --reps-f (default 1; the
dtask bench passes 3). a-d also
stop adding repetitions at a time budget (BUDGET_S; at least one is kept), so that one whole
invocation stays under ~3 minutes on 2 cores. The JSON's "reps_per_workload" gives the samples
actually taken. Medians are reported with their samples.
"""

import argparse
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

# ---------------------------------------------------------------------------------------------
# Task functions. Defined in __main__, so cloudpickle ships them by value, as dtask ships its
# closures; pure=False everywhere gives every call a fresh key, so nothing is cached.


def noop(x):
    return x


def add(a, b):
    return a + b


def inc(x):
    return x + 1


def dependent(blocker, i):
    return i


def make_payload(salt):
    return bytes(100 * 2**20)


def length(b):
    return len(b)


class Counter:
    """The actor of workload l."""

    def __init__(self):
        self.n = 0

    def increment(self):
        self.n += 1
        return self.n


# ---------------------------------------------------------------------------------------------

N_A = 10_000
N_B = 500
LEAVES_C = 4096
MB_D = 100
N_F = 100_000
WARM_F = 1_000
PAIRS_K = 2_000
N_L = 2_000

# Seconds each of a-d may take, warm-up included, before it stops adding repetitions (it always
# keeps at least one). With queuing on, Dask 2022.12 runs a and c at ~600 tasks/s here (about
# 15 s a run), so 5 reps of each would not fit the ~3 minute target; the samples actually taken
# are in "reps_per_workload".
BUDGET_S = {"a": 65, "b": 40, "c": 65, "d": 20, "k": 60, "l": 60}


def log(*parts):
    print("[dask_workloads]", *parts, file=sys.stderr, flush=True)


class Overrun(Exception):
    pass


def _alarm(signum, frame):
    raise Overrun("dask_workloads: --timeout exceeded")


def _term(signum, frame):
    raise SystemExit(f"dask_workloads: got signal {signum}")


def summary(samples):
    return {"median": statistics.median(samples), "samples": samples}


def run_reps(n, fn, budget_s):
    """One untimed warm-up run, then up to n measured runs: fewer (at least one) when the next
    run, judged by the slowest so far, would end past budget_s seconds from the start."""
    t0 = time.perf_counter()
    fn()
    slowest = time.perf_counter() - t0
    samples = []
    while len(samples) < n:
        if samples and time.perf_counter() - t0 + slowest > budget_s:
            log(f"  stopping at {len(samples)} of {n} reps (budget {budget_s:.0f} s)")
            break
        t = time.perf_counter()
        samples.append(fn())
        slowest = max(slowest, time.perf_counter() - t)
    return samples


def cluster_kwargs():
    return dict(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )


def close_quietly(client, cluster):
    if client is not None:
        try:
            client.close(timeout=30)
        except Exception as e:  # noqa: BLE001
            log("client.close failed:", repr(e))
    if cluster is not None:
        try:
            cluster.close(timeout=30)
        except Exception as e:  # noqa: BLE001
            log("cluster.close failed:", repr(e))


# ---------------------------------------------------------------------------------------------
# a-d on one cluster


def run_on_one_cluster(only, reps, reps_d, results, errors):
    from distributed import Client, LocalCluster, wait

    salt = [0]

    def next_salt(n):
        salt[0] += 1
        return salt[0] * n

    def wl_a():
        s = next_salt(N_A)
        t = time.perf_counter()
        fs = client.map(noop, range(s, s + N_A), pure=False)
        wait(fs, timeout=120)
        out = client.gather(fs)
        dt = time.perf_counter() - t
        assert len(out) == N_A and out[-1] == s + N_A - 1
        del fs, out
        return N_A / dt

    def wl_b():
        s = next_salt(N_B)
        t = time.perf_counter()
        for i in range(N_B):
            assert client.submit(noop, s + i, pure=False).result(timeout=30) == s + i
        return (time.perf_counter() - t) * 1e6 / N_B

    def wl_c():
        s = next_salt(LEAVES_C)
        t = time.perf_counter()
        layer = client.map(noop, range(s, s + LEAVES_C), pure=False)
        total = len(layer)
        while len(layer) > 1:
            layer = [
                client.submit(add, layer[i], layer[i + 1], pure=False)
                for i in range(0, len(layer), 2)
            ]
            total += len(layer)
        r = layer[0].result(timeout=120)
        dt = time.perf_counter() - t
        assert total == 2 * LEAVES_C - 1
        assert r == sum(range(s, s + LEAVES_C))
        del layer
        return total / dt

    def wl_d():
        w1, w2 = workers
        src = client.submit(
            make_payload, next_salt(1), workers=[w1], allow_other_workers=False, pure=False
        )
        wait([src], timeout=60)
        t = time.perf_counter()
        rd = client.submit(length, src, workers=[w2], allow_other_workers=False, pure=False)
        n = rd.result(timeout=60)
        dt = time.perf_counter() - t
        if n != MB_D * 2**20:
            raise RuntimeError(f"read {n} bytes")
        del src, rd
        # Let both copies go before the next run.
        deadline = time.monotonic() + 30
        while client.run_on_scheduler(_count_tasks) and time.monotonic() < deadline:
            time.sleep(0.02)
        return MB_D / dt

    client = cluster = None
    try:
        cluster = LocalCluster(**cluster_kwargs())
        client = Client(cluster)  # the default client: distributed.wait() uses it
        client.wait_for_workers(2, timeout=60)
        workers = sorted(client.scheduler_info()["workers"])
        log("cluster up:", cluster.scheduler_address, "workers", workers)
        todo = [
            ("a", "a_throughput_tasks_per_s", reps, wl_a),
            ("b", "b_latency_us", reps, wl_b),
            ("c", "c_tree_tasks_per_s", reps, wl_c),
            ("d", "d_transfer_mb_per_s", reps_d, wl_d),
        ]
        for letter, key, n, fn in todo:
            if letter not in only:
                continue
            t = time.perf_counter()
            try:
                results[key] = summary(run_reps(n, fn, BUDGET_S[letter]))
                log(f"{key}: {results[key]['median']:.1f} ({time.perf_counter() - t:.1f} s)")
            except Overrun:
                raise
            except Exception as e:  # noqa: BLE001
                errors[key] = repr(e)
                log(f"{key} failed:", repr(e))
    finally:
        close_quietly(client, cluster)


def _count_tasks(dask_scheduler):
    return len(dask_scheduler.tasks)


# ---------------------------------------------------------------------------------------------
# l: actor method calls, on a cluster of their own


def run_actor_calls(reps, results, errors):
    from distributed import Client, LocalCluster

    client = cluster = None
    try:
        cluster = LocalCluster(**cluster_kwargs())
        # the default client: a Dask Actor proxy finds its event loop through get_client()
        client = Client(cluster)
        client.wait_for_workers(2, timeout=60)
        counter = client.submit(Counter, actor=True).result(timeout=60)
        expected = [0]
        concurrent = []

        def one_run():
            t = time.perf_counter()
            for _ in range(N_L):
                counter.increment().result(timeout=30)
            seq = N_L / (time.perf_counter() - t)
            t = time.perf_counter()
            futures = [counter.increment() for _ in range(N_L)]
            # Dask runs concurrent calls in no set order: the highest count is the last call's
            last = max(f.result(timeout=120) for f in futures)
            concurrent.append(N_L / (time.perf_counter() - t))
            expected[0] += 2 * N_L
            if last != expected[0]:
                raise RuntimeError(f"counter at {last}, not {expected[0]}")
            return seq

        sequential = run_reps(reps, one_run, BUDGET_S["l"])
        results["l_actor_calls_per_s"] = summary(sequential)
        # the first concurrent figure is the warm-up's
        results["l_actor_concurrent_calls_per_s"] = summary(concurrent[1:])
        log(
            f"l: {results['l_actor_calls_per_s']['median']:.0f} sequential, "
            f"{results['l_actor_concurrent_calls_per_s']['median']:.0f} concurrent calls/s"
        )
    except Overrun:
        raise
    except Exception as e:  # noqa: BLE001
        errors["l"] = repr(e)
        log("l failed:", repr(e))
    finally:
        close_quietly(client, cluster)


# ---------------------------------------------------------------------------------------------
# e: start and close, a fresh cluster every time


def run_start_close(reps_e, results, errors):
    from distributed import Client, LocalCluster

    start, close = [], []
    try:
        for i in range(reps_e + 1):  # the first one is the warm-up
            client = cluster = None
            try:
                t0 = time.perf_counter()
                cluster = LocalCluster(**cluster_kwargs())
                client = Client(cluster, set_as_default=False)
                assert client.submit(inc, i, pure=False).result(timeout=60) == i + 1
                t1 = time.perf_counter()
                c, cl = client, cluster
                client = cluster = None
                c.close(timeout=30)
                cl.close(timeout=30)
                t2 = time.perf_counter()
            finally:
                close_quietly(client, cluster)
            if i > 0:
                start.append(t1 - t0)
                close.append(t2 - t1)
        results["e_start_s"] = summary(start)
        results["e_close_s"] = summary(close)
        log(f"e: start {results['e_start_s']['median']:.2f} s, close {results['e_close_s']['median']:.2f} s")
    except Overrun:
        raise
    except Exception as e:  # noqa: BLE001
        errors["e"] = repr(e)
        log("e failed:", repr(e))


# ---------------------------------------------------------------------------------------------
# k: Lock round trips from one client, on a cluster of its own


def run_lock_rate(reps, results, errors):
    from distributed import Client, LocalCluster, Lock

    def wl_k():
        t = time.perf_counter()
        for _ in range(PAIRS_K):
            if not lock.acquire():
                raise RuntimeError("the lock was not granted")
            lock.release()
        return PAIRS_K / (time.perf_counter() - t)

    client = cluster = None
    try:
        cluster = LocalCluster(**cluster_kwargs())
        client = Client(cluster, set_as_default=False)
        client.wait_for_workers(2, timeout=60)
        lock = Lock("bench-k", client=client)
        results["k_lock_pairs_per_s"] = summary(run_reps(reps, wl_k, BUDGET_S["k"]))
        log(f"k_lock_pairs_per_s: {results['k_lock_pairs_per_s']['median']:.1f}")
    except Overrun:
        raise
    except Exception as e:  # noqa: BLE001
        errors["k_lock_pairs_per_s"] = repr(e)
        log("k failed:", repr(e))
    finally:
        close_quietly(client, cluster)


# ---------------------------------------------------------------------------------------------
# f: 100,000 waiting tasks on a scheduler in its own process


def _die_with_parent():
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001
        pass


def _rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _wait_count(client, pred, what, limit_s):
    deadline = time.monotonic() + limit_s
    while True:
        n = client.run_on_scheduler(_count_tasks)
        if pred(n):
            return n
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: scheduler has {n} tasks after {limit_s} s")
        time.sleep(0.01)


def one_waiting_run(queuing):
    from distributed import Client

    tmp = tempfile.mkdtemp(prefix="dask-bench-")
    sched_file = os.path.join(tmp, "scheduler.json")
    errlog = open(os.path.join(tmp, "scheduler.log"), "w+")
    env = dict(os.environ)
    env["DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"] = "1.1" if queuing else "inf"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            sched_file,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=errlog,
        env=env,
        cwd=tmp,
        preexec_fn=_die_with_parent,
    )
    client = None
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(sched_file):
            if proc.poll() is not None or time.monotonic() > deadline:
                errlog.seek(0)
                raise RuntimeError("dask-scheduler did not start: " + errlog.read()[-2000:])
            time.sleep(0.05)
        client = Client(scheduler_file=sched_file, set_as_default=False, timeout=30)
        # No worker: the blocker never runs, so its dependents wait.
        blocker = client.submit(inc, -1, pure=False)
        # Warm the scheduler's code paths on a small batch, then let it go.
        small = client.map(dependent, [blocker] * WARM_F, range(WARM_F), pure=False)
        _wait_count(client, lambda n: n >= WARM_F + 1, "warm-up", 60)
        del small
        _wait_count(client, lambda n: n == 1, "warm-up release", 60)
        before = _rss(proc.pid)
        t = time.perf_counter()
        fs = client.map(dependent, [blocker] * N_F, range(N_F), pure=False)
        _wait_count(client, lambda n: n >= N_F + 1, "submit", 180)
        dt = time.perf_counter() - t
        after = _rss(proc.pid)
        log(f"f: scheduler RSS {before / 2**20:.1f} MiB -> {after / 2**20:.1f} MiB, {dt:.2f} s")
        del fs, blocker
        _wait_count(client, lambda n: n == 0, "release", 120)
        return (after - before) / N_F, N_F / dt
    finally:
        if client is not None:
            try:
                client.close(timeout=30)
            except Exception as e:  # noqa: BLE001
                log("client.close failed:", repr(e))
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
        errlog.close()
        for name in ("scheduler.json", "scheduler.log"):
            try:
                os.unlink(os.path.join(tmp, name))
            except OSError:
                pass
        try:
            os.rmdir(tmp)
        except OSError:
            pass


def run_waiting(queuing, reps_f, results, errors):
    try:
        per_task, rate = [], []
        for _ in range(reps_f):
            b, r = one_waiting_run(queuing)
            per_task.append(b)
            rate.append(r)
        results["f_bytes_per_waiting_task"] = summary(per_task)
        results["f_submit_tasks_per_s"] = summary(rate)
    except Overrun:
        raise
    except Exception as e:  # noqa: BLE001
        errors["f"] = repr(e)
        log("f failed:", repr(e))


# ---------------------------------------------------------------------------------------------


def stop_resource_tracker():
    """multiprocessing's resource tracker (started for the spawned worker processes) would
    outlive us by a moment and be left unreaped; stop it and wait for it now."""
    try:
        from multiprocessing import resource_tracker

        resource_tracker._resource_tracker._stop()
    except Exception as e:  # noqa: BLE001
        log("could not stop the resource tracker:", repr(e))


def reap_children():
    """Last resort: end any child process of ours that is still there (by pid)."""
    try:
        import psutil
    except ImportError:
        return
    kids = psutil.Process().children(recursive=True)
    if not kids:
        return
    desc = []
    for p in kids:
        try:
            desc.append((p.pid, p.status(), " ".join(p.cmdline())[:200]))
        except psutil.Error:
            desc.append((p.pid, "?", "?"))
    log("leftover child processes:", desc, "- terminating them")
    for p in kids:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(kids, timeout=10)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--queuing", choices=["on", "off"], default="on")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--only", default="a,b,c,d,e,f,g,k,l")
    ap.add_argument("--reps-e", type=int, default=None, help="default min(reps, 3)")
    ap.add_argument("--reps-f", type=int, default=None, help="default 1")
    ap.add_argument("--timeout", type=float, default=900, help="whole-run limit, s")
    args = ap.parse_args()
    if args.reps < 1:
        ap.error("--reps must be >= 1")
    only = {x.strip() for x in args.only.split(",") if x.strip()}
    queuing = args.queuing == "on"
    reps = args.reps
    reps_d = reps
    reps_e = args.reps_e if args.reps_e is not None else min(reps, 3)
    reps_f = args.reps_f if args.reps_f is not None else 1

    # stdout is for the JSON alone: point fd 1 (inherited by worker processes too) at stderr.
    json_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    signal.signal(signal.SIGALRM, _alarm)
    signal.signal(signal.SIGTERM, _term)
    signal.alarm(max(1, int(args.timeout)))

    t_all = time.perf_counter()
    results, errors = {}, {}
    try:
        import dask
        import distributed
        from distributed.protocol.compression import get_default_compression

        logging.getLogger("distributed").setLevel(logging.ERROR)
        dask.config.set(
            {"distributed.scheduler.worker-saturation": 1.1 if queuing else float("inf")}
        )
        log(f"Dask {dask.__version__}, distributed {distributed.__version__}, queuing {args.queuing}")

        if only & {"a", "b", "c", "d"}:
            run_on_one_cluster(only, reps, reps_d, results, errors)
        if "e" in only:
            run_start_close(reps_e, results, errors)
        if "f" in only:
            run_waiting(queuing, reps_f, results, errors)
        if "g" in only and queuing:  # spilling does not depend on queuing: run once
            from dask_spill import run_spill

            try:
                results.update(run_spill(min(reps, 3), summary, log))
            except Overrun:
                raise
            except Exception as e:  # noqa: BLE001
                errors["g_spill_mb_per_s"] = repr(e)
                log("g failed:", repr(e))
        if "k" in only and queuing:  # locks do not depend on queuing: run once
            run_lock_rate(reps, results, errors)
        if "l" in only and queuing:  # actor calls do not depend on queuing: run once
            run_actor_calls(reps, results, errors)
        compression = get_default_compression()
    finally:
        signal.alarm(0)
        stop_resource_tracker()
        reap_children()

    elapsed = time.perf_counter() - t_all
    log(f"total {elapsed:.1f} s")
    report = {
        "dask_version": dask.__version__,
        "distributed_version": distributed.__version__,
        "python": sys.version.split()[0],
        "queuing": args.queuing,
        "worker_saturation": 1.1 if queuing else "inf",
        "reps": reps,
        "reps_per_workload": {
            k: len(v["samples"]) for k, v in results.items()
        },
        "budget_s": BUDGET_S,
        "payload_d": "bytes(100 * 2**20) (numpy not used)",
        "comm_compression": compression,
        "f_setup": "dask-scheduler in its own process, no worker; after a 1,000-task warm-up",
        "elapsed_s": elapsed,
        "results": results,
    }
    if errors:
        report["errors"] = errors
    json_out.write(json.dumps(report) + "\n")
    json_out.flush()
    # Some results but some errors: still 0 (errors listed); nothing at all: failure.
    return 0 if results or not only else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Overrun as e:
        log(str(e), "- everything started was closed; no JSON written")
        sys.exit(3)
