"""Where a ridad process spends its time under wrk load, from py-spy.

``main(pid, url, label)`` runs wrk against ``url`` while ``py-spy record
--format raw`` samples the process ``pid`` (py-spy pauses it for each sample,
which costs some throughput but keeps the stacks exact), then prints the functions with the most samples by self time
(the frame on top) and by total time (anywhere in the stack), and the share
of a few areas (txpostgres and psycopg2, JSON, logging, Twisted's web
server, ridad's own code). Needs py-spy in the virtualenv (``make
bench-packages``) and the right to ptrace the process (root, or
``kernel.yama.ptrace_scope=0``).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

PY_SPY = Path(sys.executable).parent / "py-spy"
SECONDS = 10
TOP = 12
#: Area -> pattern a frame's file matches; the first area matching a stack's
#: frames from the top down takes the sample.
AREAS = {
    "logging (twisted.logger, ridad.logs, access log)": (
        r"twisted/logger|ridad/logs|twisted/python/log|http\.py .*[lL]og"
        r"|untilConcludes"
    ),
    "JSON encode/decode": r"json/|orjson",
    "txpostgres / psycopg2 (SQL round trips)": r"txpostgres|psycopg2",
    "ridad (api, db, domain)": r"/ridad/",
    "Twisted web/HTTP": r"twisted/web|klein|werkzeug",
    "Twisted reactor and transports": r"twisted/internet",
}
#: Frames of the reactor's loop and of Deferreds, in nearly every stack:
#: left out of the totals.
RUNNER = re.compile(
    r"\((application|scripts)/|twistd\)|internet/(base|defer|epollreactor)\.py"
)
FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^():]*)(?::\d+)?\)$")


def record(pid: int, url: str, out: Path) -> None:
    """Sample ``pid`` for ``SECONDS`` while wrk loads ``url``."""
    load = subprocess.Popen(
        ["wrk", "-t1", "-c10", f"-d{SECONDS + 2}s", url], stdout=subprocess.DEVNULL
    )
    try:
        subprocess.run(
            [str(PY_SPY), "record", "--pid", str(pid), "--duration", str(SECONDS),
             "--rate", "200", "--format", "raw", "-o", str(out)],
            check=True, capture_output=True,
        )  # fmt: skip
    finally:
        load.wait()


def parse(text: str) -> list[tuple[list[tuple[str, str]], int]]:
    """py-spy's raw lines: each stack (outermost first) as (function, file)
    frames, and its sample count."""
    stacks = []
    for line in text.splitlines():
        frames, _, count = line.rpartition(" ")
        if not frames or not count.isdigit():
            continue
        parsed = []
        for frame in frames.split(";"):
            found = FRAME.match(frame)
            parsed.append((found["function"], found["file"]) if found else (frame, ""))
        stacks.append((parsed, int(count)))
    return stacks


def short(function: str, file: str) -> str:
    """``function (package/module.py)``, the path cut to its last two parts."""
    return f"{function} ({'/'.join(file.split('/')[-2:])})"


def summarise(stacks: list[tuple[list[tuple[str, str]], int]], label: str) -> None:
    """Print the top functions by self and total samples, and the areas."""
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    anywhere: Counter[str] = Counter()
    areas: Counter[str] = Counter()
    for frames, count in stacks:
        own[short(*frames[-1])] += count
        for name in {short(*f) for f in frames if not RUNNER.search(short(*f))}:
            anywhere[name] += count
        areas[area(frames)] += count
    print(
        f"\npy-spy under wrk load: {label} ({total} samples of the busy process"
        f" in {SECONDS} s at 200 Hz)"
    )
    for title, counter in (("self", own), ("total", anywhere)):
        print(f"  top by {title} time:")
        for name, count in counter.most_common(TOP):
            print(f"    {100 * count / total:5.1f}%  {name}")
    print("  by area (innermost frame that belongs to one):")
    for name, count in areas.most_common():
        print(f"    {100 * count / total:5.1f}%  {name}")


def area(frames: list[tuple[str, str]]) -> str:
    """The area of the innermost frame of a stack that belongs to one."""
    for function, file in reversed(frames):
        for name, pattern in AREAS.items():
            if re.search(pattern, f"{file} {function}"):
                return name
    return "other (idle in epoll, interpreter)" if frames else "other"


def main(pid: int, url: str, label: str) -> None:
    """Record ``pid`` under load on ``url`` and print the summary."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "profile.txt"
        try:
            record(pid, url, out)
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"\npy-spy: not available ({e})")
            return
        summarise(parse(out.read_text()), label)
