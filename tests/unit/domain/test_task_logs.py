"""Choosing a failed task's log and cutting its tail (``ridad.domain.task_logs``)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ridad.domain.task_logs import (
    LOG_LINES,
    MAX_LOG_BYTES,
    TaskLogTail,
    choose_log,
    first_line,
    reason_with_log,
    tail_lines,
)

KOJI_BUILD = (
    "error building package (arch x86_64), rpmbuild exited with status 1;"
    " see build.log for more information"
)
KOJI_ROOT = (
    "error building package (arch noarch), mock exited with status 30;"
    " see root.log for more information"
)
RECORDED_NAMES = ("build.log", "srpm.log", "root.log", "checkout.log")


@pytest.mark.parametrize(
    ("names", "fault", "chosen"),
    [
        (RECORDED_NAMES, KOJI_BUILD, "build.log"),
        (RECORDED_NAMES, KOJI_ROOT, "root.log"),
        (("srpm.log", "root.log"), KOJI_ROOT, "root.log"),
        # The fault names no log: build.log, else root.log.
        (RECORDED_NAMES, "package delta not in list for tag mod", "build.log"),
        (("root.log", "checkout.log"), None, "root.log"),
        # The named log is not there: the default order.
        (("root.log",), KOJI_BUILD, "root.log"),
        (("srpm.log", "mock_output.log"), KOJI_BUILD, None),
        ((), KOJI_BUILD, None),
        # Another log the fault names, when the task has it.
        (
            ("build.log", "mock_output.log"),
            "error; see mock_output.log for more information",
            "mock_output.log",
        ),
    ],
)
def test_the_log_is_the_one_the_fault_names_else_build_then_root(
    names: tuple[str, ...], fault: str | None, chosen: str | None
) -> None:
    """kojid's fault says which log explains it; without that, build.log
    (rpmbuild's output), else root.log (the buildroot's)."""
    assert choose_log(names, fault) == chosen


def test_the_last_40_lines_of_a_whole_file() -> None:
    """Of 100 lines the last 40; the file's final newline ends the last line."""
    data = "".join(f"line {n}\n" for n in range(100)).encode()
    assert tail_lines(data, partial=False) == tuple(f"line {n}" for n in range(60, 100))
    assert LOG_LINES == 40


def test_a_short_file_is_kept_whole_and_an_empty_one_gives_nothing() -> None:
    """Fewer lines than 40 are all kept; empty lines inside stay."""
    assert tail_lines(b"a\n\nb\n", partial=False) == ("a", "", "b")
    assert tail_lines(b"no newline at the end", partial=False) == (
        "no newline at the end",
    )
    assert tail_lines(b"", partial=False) == ()


def test_a_read_from_inside_the_file_drops_its_cut_first_line() -> None:
    """Bytes read from an offset start mid-line (recording 133): that line
    is dropped, unless it is the only one."""
    assert tail_lines(b"op/BUILD\n+ exit 1\n[exit status 1]\n", partial=True) == (
        "+ exit 1",
        "[exit status 1]",
    )
    assert tail_lines(b"only a piece", partial=True) == ("only a piece",)


def test_bytes_that_are_not_text_are_cleaned() -> None:
    """Invalid UTF-8 becomes U+FFFD; CR LF and lone CR end lines; colour
    escapes, NUL and other controls go; tabs stay."""
    data = (
        b"\x1b[1;31merror:\x1b[0m bad\r\n"
        b"100%\rdone\n"
        b"nul\x00 here\ttab\x07\n"
        b"latin-1 \xe9t\xe9\n"
    )
    assert tail_lines(data, partial=False) == (
        "error: bad",
        "100%",
        "done",
        "nul here\ttab",
        "latin-1 \ufffdt\ufffd",
    )


def test_the_tail_never_passes_8_kib() -> None:
    """Long lines: whole lines from the end while they fit in 8 KiB; a single
    line longer than that keeps its end."""
    lines = [f"{n:02d}" * 1000 for n in range(10)]  # 2000 bytes each
    data = "\n".join(lines).encode()
    kept = tail_lines(data, partial=False)
    assert kept == tuple(lines[-4:])
    huge = b"x" * 5000 + b"\xc3\xa9" * 5000 + b"END\n"
    (only,) = tail_lines(huge, partial=False)
    assert only.endswith("\u00e9END")
    assert len(only.encode()) <= MAX_LOG_BYTES


@settings(max_examples=60, derandomize=True, deadline=None)
@given(data=st.binary(max_size=20000), partial=st.booleans())
@example(data=b"\n" * 9000, partial=False)
def test_any_bytes_give_at_most_40_clean_lines_within_8_kib(
    data: bytes, partial: bool
) -> None:
    """Whatever Koji sends: at most 40 lines, no control characters but
    tabs, no newline inside a line, at most 8 KiB with the newlines."""
    lines = tail_lines(data, partial=partial)
    assert len(lines) <= LOG_LINES
    assert sum(len(line.encode()) + 1 for line in lines) <= MAX_LOG_BYTES
    for line in lines:
        assert not any(ord(c) < 32 and c != "\t" for c in line), line
        assert not any(0x7F <= ord(c) <= 0x9F for c in line), line


def test_the_reason_carries_the_tail_under_a_header() -> None:
    """Koji's reason first, then the header naming the log and its task,
    then the lines; no tail (or an empty one) leaves the reason alone."""
    tail = TaskLogTail(task_id=124, log="build.log", lines=("+ exit 1", "boom"))
    assert reason_with_log(KOJI_BUILD, tail) == (
        f"{KOJI_BUILD}\n--- last 2 lines of build.log (Koji task 124) ---\n"
        "+ exit 1\nboom"
    )
    assert reason_with_log(KOJI_BUILD, None) == KOJI_BUILD
    assert reason_with_log(KOJI_BUILD, TaskLogTail(1, "root.log", ())) == KOJI_BUILD
    assert first_line(reason_with_log(KOJI_BUILD, tail)) == KOJI_BUILD
    assert first_line("one line") == "one line"
