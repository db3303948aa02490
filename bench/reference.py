"""The machine the benchmarks run on, and its speed at the moment as the app's interpreter sees
it: the CPU time of a fixed piece of pure Python, the median of several runs. On a shared host
the same code's cost moves by a third from one hour to the next; the benchmarks print their
figures beside this one so that runs can be compared.

    .venv/bin/python bench/reference.py                  # prints the median in ms
    .venv/bin/python bench/reference.py --machine 35.2   # the machine line, with that median
"""

import os
import platform
import statistics
import sys
import time
from pathlib import Path

RUNS = 7


def reference_ms(runs=RUNS):
    """CPU milliseconds of summing the squares of the first million integers (median of `runs`):
    CPU time, not wall time, so that it measures the CPU's speed, not how busy it is."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        sum(i * i for i in range(10**6))
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def machine(reference=None):
    """The CPU, cores, interpreter, load average and reference loop (`reference` ms if given,
    else timed now), for a benchmark's report."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}, "
        f"reference loop {reference_ms() if reference is None else reference:.1f} ms"
    )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--machine"]:
        print(machine(float(sys.argv[2])))
    else:
        print(f"{reference_ms():.1f}")
