"""CPU-bound thread scaling of the running interpreter: N threads against 1 thread.

Prints one JSON line: interpreter, GIL state, threads, seconds for the same total work run in
1 thread and spread over N threads, and the speedup. Usage: python thread_scaling.py [N] [WORK]
"""

from __future__ import annotations

import json
import os
import sys
import sysconfig
import threading
import time


def spin(iterations: int) -> int:
    """Pure-Python CPU work."""
    total = 0
    for value in range(iterations):
        total += value * value % 7
    return total


def timed(threads: int, work: int) -> float:
    """Seconds to run `work` iterations split over `threads` threads."""
    share = work // threads
    pool = [threading.Thread(target=spin, args=(share,)) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start


def main() -> None:
    """Measure and print."""
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else max(2, os.cpu_count() or 2)
    work = int(sys.argv[2]) if len(sys.argv) > 2 else 8_000_000
    one = min(timed(1, work) for _ in range(2))
    many = min(timed(threads, work) for _ in range(2))
    gil_check = getattr(sys, "_is_gil_enabled", None)
    print(
        json.dumps(
            {
                "python": sys.version.split()[0],
                "executable": sys.executable,
                "free_threaded_build": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
                "gil_enabled": gil_check() if gil_check else True,
                "threads": threads,
                "seconds_1_thread": round(one, 3),
                "seconds_n_threads": round(many, 3),
                "speedup": round(one / many, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
