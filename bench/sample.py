"""Time and peak memory of the sample generator at benchmark size.

    .venv/bin/python bench/sample.py [--parcels 1000000] [--out /tmp/bench-sample]

Runs the generator in a child process (so its peak RSS is the generator's alone) and prints a
Markdown row for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--parcels", type=int, default=1_000_000)
    parser.add_argument("--out", default="/tmp/bench-sample")
    args = parser.parse_args()
    command = [sys.executable, "-m", "publish", "sample", "--out", args.out,
               "--parcels", str(args.parcels)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print("| parcels | wall time (s) | peak RSS (MiB) | command |")
    print("|---|---|---|---|")
    print(f"| {args.parcels:,} | {seconds:.1f} | {peak_mib:.0f} | `{' '.join(command[1:])}` |")


if __name__ == "__main__":
    main()
