"""The output failed builds leave (``build_logs``), and reading it as the hub
answers ``listTaskOutput`` and ``downloadTaskOutput``."""

from __future__ import annotations

import base64

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.build_logs import (
    BUILDROOT_FAILURE,
    MISSING,
    MOCK_FAILURE,
)
from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import HubClient, run_until_idle, seed_module_tags

ALPHA = "git://src.example.org/rpms/alpha.git?#0123456789abcdef"
RECORDED_NAMES = ["build.log", "srpm.log", "root.log", "checkout.log"]


def _failed_build(hub: KojiHub, clock: Clock, admin: HubClient, *, root: bool) -> int:
    """Build alpha, set to fail in its buildroot (``root``) or in rpmbuild."""
    seed_module_tags(admin, dist=".module_f40+7+c0ffee00")
    (hub.fail_buildroot_packages if root else hub.fail_packages).add("alpha")
    task_id: int = admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    return task_id


def _download(admin: HubClient, task_id: int, name: str, **kwargs: int) -> bytes:
    """A decoded ``downloadTaskOutput`` answer (base64 text in a string)."""
    answer = admin.call("downloadTaskOutput", task_id, name, **kwargs)
    assert isinstance(answer, str)
    return base64.b64decode(answer)


def test_a_failed_build_leaves_the_recorded_hosts_four_logs(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A package in fail_packages: the task's fault names build.log, and the
    task lists build.log, srpm.log, root.log and checkout.log in the recorded
    order, sizes as strings and the three times as doubles."""
    task_id = _failed_build(hub, clock, admin, root=False)
    fault = admin.call("getTaskResult", task_id, raise_fault=False)
    assert fault == {"faultCode": 1005, "faultString": MOCK_FAILURE}
    assert admin.call("getTaskChildren", task_id) == []
    assert admin.call("listTaskOutput", task_id) == RECORDED_NAMES
    stats = admin.call("listTaskOutput", task_id, stat=True)
    assert list(stats) == RECORDED_NAMES
    files = hub.task_output(task_id)
    for name, stat in stats.items():
        assert set(stat) == {"st_atime", "st_ctime", "st_mtime", "st_size"}
        assert stat["st_size"] == str(len(files[name]))
        assert (
            stat["st_mtime"] == stat["st_atime"] == stat["st_ctime"] == clock_time(stat)
        )


def clock_time(stat: dict[str, object]) -> float:
    """The modification time, which must be a double."""
    assert isinstance(stat["st_mtime"], float)
    return stat["st_mtime"]


def test_build_log_ends_with_the_rpmbuild_error_after_40_lines(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """build.log is longer than 40 lines and its last ones are the error:
    configure's complaint, rpmbuild's errors and the exit status."""
    task_id = _failed_build(hub, clock, admin, root=False)
    lines = _download(admin, task_id, "build.log").decode().splitlines()
    assert len(lines) == 45
    assert lines[0].startswith(
        "$ rpmbuild --nodeps --define 'dist .module_f40+7+c0ffee00'"
    )
    assert lines[-1] == "[exit status 1]"
    assert lines[-3] == "RPM build errors:"
    assert "configure: error: Package requirements (frobnicate >= 2.0)" in lines[-11]
    checkout = _download(admin, task_id, "checkout.log").decode()
    assert checkout.startswith("$ git clone -n git://src.example.org/rpms/alpha.git ")
    assert "reset --hard 0123456789abcdef\nHEAD is now at 0123456\n" in checkout


def test_a_buildroot_failure_puts_the_error_in_root_log(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A package in fail_buildroot_packages fails with mock's status 30 and a
    fault naming root.log, whose tail is the package manager's refusal; no
    build.log, and its build is FAILED."""
    task_id = _failed_build(hub, clock, admin, root=True)
    fault = admin.call("getTaskResult", task_id, raise_fault=False)
    assert fault == {"faultCode": 1005, "faultString": BUILDROOT_FAILURE}
    assert "see root.log for more information" in BUILDROOT_FAILURE
    assert admin.call("listTaskOutput", task_id) == [
        "srpm.log",
        "root.log",
        "checkout.log",
    ]
    root = _download(admin, task_id, "root.log").decode().splitlines()
    assert root[-5:] == [
        "Failed to resolve the transaction:",
        f"No match for argument: {MISSING}",
        "You can try to add to command line:",
        "  --skip-unavailable to skip unavailable packages",
        "[exit status 1]",
    ]
    assert admin.call("listBuilds", taskID=task_id)[0]["state"] == 3


def test_the_logs_are_the_same_for_the_same_task(
    clock: Clock, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Names the host would make at random come from the task id: two hubs
    write the same bytes for the same failing task."""
    from tests.unit.kojisim.support import make_hub

    written = []
    for _ in range(2):
        hub = make_hub(clock, upload_dir=str(tmp_path_factory.mktemp("u")))
        admin = HubClient(hub)
        admin.login()
        task_id = _failed_build(hub, clock, admin, root=False)
        written.append(hub.task_output(task_id))
        hub.stop()
    assert written[0] == written[1]
    assert b"/var/tmp/rpm-tmp." in written[0]["build.log"]


def test_a_successful_build_and_an_unknown_task_have_no_output(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """No files: an empty list (or struct with stat); strict refuses a
    missing task."""
    seed_module_tags(admin)
    task_id = admin.call("build", ALPHA, "mod", {})
    run_until_idle(hub, clock)
    assert admin.call("listTaskOutput", task_id) == []
    assert admin.call("listTaskOutput", task_id, stat=True) == {}
    assert admin.call("listTaskOutput", 999) == []
    assert admin.fault_of("listTaskOutput", 999, strict=True) == (
        1000,
        "Task doesn't exist",
    )


def test_all_volumes_names_the_default_volume(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """With all_volumes each file maps to ``["DEFAULT"]``, or with stat to
    ``{"DEFAULT": stat}``."""
    task_id = _failed_build(hub, clock, admin, root=True)
    assert admin.call("listTaskOutput", task_id, all_volumes=True) == {
        name: ["DEFAULT"] for name in ("srpm.log", "root.log", "checkout.log")
    }
    nested = admin.call("listTaskOutput", task_id, stat=True, all_volumes=True)
    plain = admin.call("listTaskOutput", task_id, stat=True)
    assert nested == {name: {"DEFAULT": stat} for name, stat in plain.items()}


def test_download_reads_slices_as_the_hub_does(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """offset/size read a slice; a negative offset counts from the end; an
    offset past the end reads nothing; size 0 nothing; size -1 to the end."""
    task_id = _failed_build(hub, clock, admin, root=False)
    data = hub.task_output(task_id)["build.log"]
    size = len(data)
    assert _download(admin, task_id, "build.log") == data
    assert _download(admin, task_id, "build.log", offset=10, size=20) == data[10:30]
    assert _download(admin, task_id, "build.log", offset=-200) == data[-200:]
    assert _download(admin, task_id, "build.log", offset=-size) == data
    assert _download(admin, task_id, "build.log", offset=-50, size=10) == data[-50:-40]
    assert _download(admin, task_id, "build.log", offset=size + 5) == b""
    assert _download(admin, task_id, "build.log", size=0) == b""
    assert _download(admin, task_id, "build.log", offset=5, size=-1) == data[5:]


def test_download_faults_as_the_hub_does(
    hub: KojiHub, clock: Clock, admin: HubClient
) -> None:
    """A negative offset beyond the start is fault 1 with OSError's EINVAL;
    a missing file 1000 naming it; ``..`` is refused; size must be an int."""
    task_id = _failed_build(hub, clock, admin, root=False)
    size = len(hub.task_output(task_id)["build.log"])
    assert admin.fault_of(
        "downloadTaskOutput", task_id, "build.log", offset=-size - 1
    ) == (
        1,
        "<class 'OSError'>: [Errno 22] Invalid argument",
    )
    assert admin.fault_of("downloadTaskOutput", task_id, "no-such.log") == (
        1000,
        f'no file "no-such.log" output by task {task_id}',
    )
    assert admin.fault_of("downloadTaskOutput", task_id, "../build.log") == (
        1000,
        "Invalid file name: ../build.log",
    )
    code, message = admin.fault_of(
        "downloadTaskOutput", task_id, "build.log", size=None
    )
    assert (code, message) == (1019, "Invalid type, expected type <class 'int'>")
    assert admin.fault_of("downloadTaskOutput", 999, "build.log") == (
        1000,
        'no file "build.log" output by task 999',
    )
    with pytest.raises(koji.ParameterError):
        admin.call("downloadTaskOutput", task_id)
