"""Workload g on Dask, for bench/dask_workloads.py: spill and unspill throughput, 1 GiB through a
256 MiB worker (1 worker process, 1 thread, Dask's default thresholds: target 0.6, spill 0.7,
pause 0.8, terminate 0.95), as bench/spill.ts does on dtask.

Spill: the wall time to make 32 `bytes` values of 32 MiB, most of which go to disk on the way.
Unspill: 32 tasks run one after the other, oldest value first, each reading the first byte of
one value, so each brings one back from disk. Both in MB/s; a warm-up run first.
"""

import logging
import os
import sys
import time

VALUES = 32
MIB = 32


def make_block(i, mib, run):
    return bytes([i]) * (mib * 2**20)


def first_byte(b):
    return b[0]


def run_spill(reps, summary, log):
    """Returns {"g_spill_mb_per_s": summary, "g_unspill_mb_per_s": summary}."""
    import cloudpickle
    from distributed import Client, LocalCluster, wait

    # worker processes cannot import this module: ship its functions by value
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    spill, unspill = [], []
    cluster = client = None
    try:
        cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=logging.ERROR,
            memory_limit="256MiB",
        )
        client = Client(cluster)
        client.wait_for_workers(1, timeout=60)
        pid = lambda: next(iter(client.run(os.getpid).values()))  # noqa: E731
        started = pid()
        for run in range(reps + 1):  # the first one is the warm-up
            ids = list(range(1, VALUES + 1))
            t0 = time.perf_counter()
            fs = client.map(make_block, ids, [MIB] * VALUES, [run] * VALUES, pure=False)
            wait(fs, timeout=300)
            t1 = time.perf_counter()
            for i, f in enumerate(fs):
                b = client.submit(first_byte, f, pure=False).result(timeout=300)
                if b != i + 1:
                    raise RuntimeError(f"value {i} read back as {b}")
            t2 = time.perf_counter()
            del fs, f
            if run == 0:
                continue
            spill.append(VALUES * MIB / (t1 - t0))
            unspill.append(VALUES * MIB / (t2 - t1))
            log(f"  g run {run}: spill {spill[-1]:.0f} MB/s, unspill {unspill[-1]:.0f} MB/s")
        if pid() != started:
            raise RuntimeError("the worker was restarted during workload g")
    finally:
        if client is not None:
            client.close(timeout=30)
        if cluster is not None:
            cluster.close(timeout=30)
    return {"g_spill_mb_per_s": summary(spill), "g_unspill_mb_per_s": summary(unspill)}
