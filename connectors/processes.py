"""`ribot serve --processes N`: N server processes on one listening socket, under a supervisor.

One process answers with one core's worth of Python (the GIL), whatever the number of cores; the embedding
alone runs outside it. With one process per core, the kernel hands each new connection to whichever process
accepts first, and each answers on its own core. The processes share what matters through the database (or
Redis): conversations, deliveries, escalations and rate-limit counters. Their Prometheus metrics are written
to files in a folder of the supervisor's and summed when /metrics is read (prometheus_client's multiprocess
mode; the process, platform and garbage-collector figures are then left out, as that mode cannot sum them).

The supervisor forks the processes before any thread or model exists, passes SIGINT and SIGTERM on to them,
and exits when they have; when one of them ends on its own, it stops the others and exits with an error, so
that the platform (systemd, Kubernetes) restarts the whole server."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("ribot.serve")
METRICS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"  # prometheus_client's setting; read when it is first imported


def threads_each(threads: int, processes: int) -> int:
    """Embedding threads per process: the setting, else the cores shared out, at least one."""
    return threads or max(1, (os.cpu_count() or 1) // processes)


def run_processes(count: int, serve_one: Callable[[], int]) -> int:
    """Runs `serve_one` in `count` forked processes until they end; returns the exit code for all."""
    folder = tempfile.mkdtemp(prefix="ribot-metrics-")
    os.environ[METRICS_FOLDER] = folder
    children: set[int] = set()
    try:
        for _ in range(count):
            pid = os.fork()
            if pid == 0:
                os._exit(_child(serve_one))
            children.add(pid)
        return _supervise(children)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        os.environ.pop(METRICS_FOLDER, None)


def _child(serve_one: Callable[[], int]) -> int:
    try:
        return serve_one()
    except BaseException:  # a child must never return into the supervisor's code
        log.exception("a server process failed")
        return 1


def _supervise(children: set[int]) -> int:
    stopping = False

    def forward(signum: int, _frame: FrameType | None = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, forward)
    worst = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        _forget_metrics(pid)
        code = os.waitstatus_to_exitcode(status)  # negative: ended by that signal
        if not stopping:
            log.error(f"server process {pid} ended on its own (exit code {code}): stopping the others")
            forward(signal.SIGTERM)
            code = code if code > 0 else 1
        worst = max(worst, code)
    return worst


def _forget_metrics(pid: int) -> None:
    """Drops the gauges of a process that has ended; its counters stay in the sums."""
    # imported here, after METRICS_FOLDER is set: prometheus_client picks its kind of values on import
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
