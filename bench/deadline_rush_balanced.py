"""Deadline rush through a load balancer: bench/deadline_rush.py's N applicants submitting at
once, through HAProxy (roundrobin) to two app instances on one PostgreSQL with the documents
in it, against the bare upload (bench/bare_upload.py) behind the same balancer to two bare
instances, in the same run (`--instances 1`: one of each, to compare).

Each run takes a fresh PostgreSQL database (dropped afterwards). The applicants log in
first through another pair of instances (argon2id takes 19 MiB per login, and the allocator
keeps it), so that the measured instances' peak memory is the uploads'. Reports errors,
applications lost (every receipt must have its row and both documents with the right
SHA-256 in the database's store), median and p95 seconds per submission, and the peak
memory (VmHWM) of each instance and of HAProxy. Bounded: N requests per run, loopback.

    .venv/bin/python bench/deadline_rush_balanced.py --applicants 200 --mb 2 --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import cluster  # noqa: E402
from bench.deadline_rush import (  # noqa: E402
    _gather,
    log_everyone_in,
    make_pdf,
    one_bare,
    percentile,
    prepare,
    submit_all,
    verify,
)


def one_run(applicants: int, instances: int, cv: bytes, letter: bytes) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="rush-balanced-"))
    keys = cluster.shared_keys()
    os.environ.update(keys)
    with cluster.fresh_database("rush_balanced") as database_url:
        reference, emails = prepare(work / "setup", database_url, applicants)
        env = {**os.environ, **keys, "DATABASE_URL": database_url}
        with cluster.cluster(work / "logins", env, instances=instances) as logins:
            sessions = asyncio.run(log_everyone_in(logins.base, emails))
        with cluster.cluster(work / "rush", env, instances=instances) as balanced:
            started = time.perf_counter()
            results = asyncio.run(submit_all(balanced.base, sessions, reference, cv, letter))
            wall = time.perf_counter() - started
            memory = balanced.peak_memory()
        with cluster.cluster(
            work / "bare", env, instances=instances, app="bench.bare_upload:app", factory=False
        ) as bare:
            bare_results = asyncio.run(_gather([one_bare(bare.base, cv, letter) for _ in emails]))
            bare_memory = bare.peak_memory()
        receipts = [ref for _t, ref, problem in results if ref and not problem]
        lost = verify(work / "setup", database_url, receipts,
                      hashlib.sha256(cv).hexdigest(), hashlib.sha256(letter).hexdigest())  # fmt: skip
    times = [t for t, ref, problem in results if ref and not problem]
    bare_times = [t for t, problem in bare_results if not problem]
    return {
        "errors": [problem for _t, _r, problem in results if problem],
        "bare errors": [problem for _t, problem in bare_results if problem],
        "receipts": len(receipts),
        "lost": lost,
        "median": statistics.median(times) if times else float("nan"),
        "p95": percentile(times, 0.95) if times else float("nan"),
        "wall": wall,
        "bare median": statistics.median(bare_times) if bare_times else float("nan"),
        "bare p95": percentile(bare_times, 0.95) if bare_times else float("nan"),
        "memory": memory,
        "bare memory": bare_memory,
    }


def describe(run: dict[str, Any]) -> str:
    memory = ", ".join(f"{name} {mb:.0f} MB" for name, mb in run["memory"].items())
    bare = ", ".join(f"{name} {mb:.0f} MB" for name, mb in run["bare memory"].items())
    return (
        f"errors {len(run['errors'])} {sorted(set(run['errors']))[:5]}; "
        f"receipts {run['receipts']}; lost {run['lost']}; "
        f"bare errors {len(run['bare errors'])}\n"
        f"submission median {run['median']:.2f} s, p95 {run['p95']:.2f} s, wall {run['wall']:.1f} s; "
        f"bare median {run['bare median']:.2f} s, p95 {run['bare p95']:.2f} s; "
        f"ratio of medians {run['median'] / run['bare median']:.2f}\n"
        f"peak memory: {memory}; bare: {bare}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--mb", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument(
        "--instances", type=int, default=2, help="app (and bare) instances behind HAProxy"
    )
    args = parser.parse_args()
    # Stopped with SIGTERM: the instances, HAProxy and the database go too.
    signal.signal(signal.SIGTERM, lambda _signal, _frame: sys.exit(1))
    cv, letter = make_pdf(args.mb, "CV"), make_pdf(args.mb, "Brief")
    print(f"applicants {args.applicants}, two PDFs of {len(cv) / 1e6:.1f} MB each, "
          f"HAProxy (roundrobin) to {args.instances} instance(s) of one process each, "
          "PostgreSQL, documents in the database")  # fmt: skip
    runs = []
    for number in range(args.runs):
        run = one_run(args.applicants, args.instances, cv, letter)
        print(f"-- run {number + 1}\n{describe(run)}", flush=True)
        runs.append(run)

    def median(key: str) -> float:
        return statistics.median(run[key] for run in runs)

    def median_memory(key: str) -> str:
        names = runs[0][key]
        return ", ".join(
            f"{name} {statistics.median(run[key][name] for run in runs):.0f} MB" for name in names
        )

    print(f"== median of {len(runs)} runs")
    print(f"errors {sum(len(r['errors']) for r in runs)}, lost {sum(r['lost'] for r in runs)}; "
          f"submission median {median('median'):.2f} s, p95 {median('p95'):.2f} s; "
          f"bare median {median('bare median'):.2f} s, p95 {median('bare p95'):.2f} s; "
          f"ratio of medians {median('median') / median('bare median'):.2f}")  # fmt: skip
    print(f"peak memory: {median_memory('memory')}; bare: {median_memory('bare memory')}")
    return 0 if all(not r["errors"] and r["lost"] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
