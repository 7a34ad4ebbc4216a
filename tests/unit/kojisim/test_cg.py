"""The content-generator import on kojisim's default world (the ``module``
build type and ``module-build-service`` granted to its users), and what the
recorded hub was seen to answer to imports that the recordings do not hold
(README, "Tried on the same hub, not recorded")."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import koji
import pytest
from twisted.internet.task import Clock

from ridad.kojisim.hub import KojiHub
from tests.unit.kojisim.support import (
    HUB_URL,
    HubClient,
    make_hub,
    run_until_idle,
    seed_module_tags,
)

CG = "module-build-service"
NVR = {"name": "mod", "version": "s_1", "release": "1.c0ffee42"}
DIRECTORY = "cg-import/mod-s_1-1.c0ffee42.XyZ"
FILES = {
    "modulemd.txt": b"---\ndocument: modulemd\n...\n",
    "modulemd.x86_64.txt": b"---\ndocument: modulemd\n# x86_64\n...\n",
    "build.log": b"built\n",
}


def upload(client: HubClient, name: str, data: bytes) -> None:
    """A fast upload into ``DIRECTORY``, as uploadWrapper sends it."""
    query = urlencode({"filename": name, "filepath": DIRECTORY, "offset": 0})
    reply = client.http(
        "POST",
        data,
        url=f"{HUB_URL}?{query}&overwrite=1",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert reply.code == 200 and b"<fault>" not in reply.body


@pytest.fixture
def world(clock: Clock, hub: KojiHub, admin: HubClient) -> HubClient:
    """alpha and beta built (src and noarch RPMs each) and tagged into
    ``mod``; the outputs uploaded."""
    seed_module_tags(admin)
    for name in ("alpha", "beta"):
        admin.call("build", f"git://h/rpms/{name}.git?#c", "mod", {})
    run_until_idle(hub, clock)
    for name, data in FILES.items():
        upload(admin, name, data)
    return admin


def rpm_component(rpm: dict[str, Any]) -> dict[str, Any]:
    """An output's rpm component, as MBS writes it."""
    keys = ("name", "version", "release", "arch", "epoch")
    return {**{k: rpm[k] for k in keys}, "sigmd5": rpm["payloadhash"], "type": "rpm"}


def metadata(client: HubClient, build_id: int | None) -> dict[str, Any]:
    """Import metadata as MBS sends it, for the outputs in ``FILES``."""
    [rpms, _] = client.call("listTaggedRPMS", "mod", latest=True)
    build = {**NVR, "source": "git://h/modules/mod?#c", "start_time": 100}
    build.update(end_time=200, owner="admin", extra={"typeinfo": {"module": {"k": 1}}})
    if build_id is not None:
        build["build_id"] = build_id
    unknown = {**rpm_component(rpms[0]), "name": "libmodulemd", "sigmd5": "0" * 32}
    outputs = []
    for name, data in FILES.items():
        output = {"buildroot_id": 1, "filename": name, "filesize": len(data)}
        output.update(checksum_type="md5", checksum=hashlib.md5(data).hexdigest())
        if name == "build.log":
            output.update(arch="noarch", type="log")
        else:
            extra = {"typeinfo": {"module": {}}}
            binaries = [rpm_component(r) for r in rpms if r["arch"] != "src"]
            output.update(arch="noarch", type="file", extra=extra, components=binaries)
        outputs.append(output)
    root = {"id": 1, "host": {"os": "Fedora 40", "arch": "x86_64"}}
    root.update(content_generator={"name": CG, "version": "1"}, tools=[])
    root.update(container={"type": "none", "arch": "x86_64"}, components=[unknown])
    return {
        "metadata_version": 0,
        "build": build,
        "buildroots": [root],
        "output": outputs,
    }


def test_the_default_world_may_import_modules(admin: HubClient) -> None:
    """A new kojisim has the btype module and grants the CG to its users."""
    assert {"id": 5, "name": "module"} in admin.call("listBTypes")
    assert admin.call("listCGs") == {CG: {"id": 1, "users": ["admin", "alice"]}}


@pytest.mark.parametrize(
    ("options", "fault"),
    [
        (
            {"content_generator": None},
            (1000, f"No such entry in table content_generator: {CG}"),
        ),
        ({"cg_users": ()}, (1002, f"Content generator access required ({CG})")),
    ],
)
def test_a_hub_without_the_cg_or_the_grant_refuses_the_reservation(
    clock: Clock, options: dict[str, Any], fault: tuple[int, str]
) -> None:
    """``content_generator=None`` is a new hub; ``cg_users=()`` grants nobody."""
    hub = make_hub(clock, **options)
    client = HubClient(hub)
    client.login()
    assert client.fault_of("CGInitBuild", CG, dict(NVR)) == fault
    hub.stop()


def test_an_import_completes_the_reservation_with_archives_and_logs(
    hub: KojiHub, world: HubClient
) -> None:
    """The reserved build becomes COMPLETE with the metadata's extra; the
    .txt outputs are module archives with their RPM components; build.log
    and the hub's cg_import.log are the build's logs."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    build = world.call(
        "CGImport", metadata(world, reserved["build_id"]), DIRECTORY, reserved["token"]
    )
    assert (build["id"], build["state"], build["cg_name"]) == (
        reserved["build_id"],
        koji.BUILD_STATES["COMPLETE"],
        CG,
    )
    assert world.call("getBuildType", build["id"]) == {"module": {"k": 1}}
    assert [b["nvr"] for b in world.call("listBuilds", type="module")] == [build["nvr"]]
    archives = world.call("listArchives", buildID=build["id"], type="module")
    assert [a["filename"] for a in archives] == ["modulemd.txt", "modulemd.x86_64.txt"]
    assert {a["type_name"] for a in archives} == {"txt"}
    components = world.call("listRPMs", imageID=archives[0]["id"])
    assert [(r["name"], r["arch"]) for r in components] == [
        ("alpha", "noarch"),
        ("beta", "noarch"),
    ]
    assert hub.state.archives[archives[1]["id"]].content == FILES["modulemd.x86_64.txt"]
    logs = world.call("getBuildLogs", build["id"])
    assert [log["name"] for log in logs] == ["build.log", "cg_import.log"]
    note = hub.state.build_logs[build["id"]][-1].content.decode()
    assert note.startswith("IGNORING unmatched rpm component: {'name': 'libmodulemd'")
    assert world.call("listCGs")[CG]["users"] == ["admin", "alice"]


def test_an_import_without_reservation_creates_the_build(world: HubClient) -> None:
    """MBS's way (no build_id, no token) makes the build with the metadata's times."""
    build = world.call("CGImport", metadata(world, None), DIRECTORY)
    assert (build["start_ts"], build["completion_ts"]) == (100.0, 200.0)
    assert world.fault_of("CGImport", metadata(world, None), DIRECTORY) == (
        1000,
        f"Build already exists: {build['nvr']} (id={build['id']})",
    )


def _change(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change to the good metadata at a dotted path (``DELETE``: remove)."""

    def apply(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        for key in parents:
            data = data[int(key)] if key.isdigit() else data[key]  # type: ignore[index]
        if value is DELETE:
            del data[last]
        else:
            data[last] = value

    return apply


DELETE = object()
REFUSED = [
    ("build.source", DELETE, (1, "<class 'KeyError'>: 'source'")),
    ("build.end_time", DELETE, (1, "<class 'KeyError'>: 'end_time'")),
    ("buildroots.0.host", DELETE, (1, "<class 'KeyError'>: 'host'")),
    ("buildroots.0.tools", DELETE, (1, "<class 'KeyError'>: 'tools'")),
    ("output.0.checksum_type", DELETE, (1, "<class 'KeyError'>: 'checksum_type'")),
    ("metadata_version", 1, (1000, "No such metadata version: 1")),
    ("build.release", "2.c0ffee42", (1000, "Build (3) NVR is different")),
    ("build.owner", "no-such-user", (1000, "No such user: 'no-such-user'")),
    ("build.extra", {"typeinfo": {}}, (1000, "Output type module not listed in build types")),
    ("build.extra", {"typeinfo": {"nosuch": {}}}, (1000, "No such entry in table btype: nosuch")),
    ("output.0.extra", {}, (1000, "No typeinfo for: modulemd.txt")),
    ("buildroots.0.content_generator.name", "no-such-cg", (1000, "No such entry in table content_generator: no-such-cg")),
    ("buildroots.0.id", 2, (1000, "Buildroot id not used in output: 2")),
    ("output.0.filesize", 40, (1000, "File size 27 for modulemd.txt (expected 40) doesn't match. Corrupted upload?")),
]  # fmt: skip


@pytest.mark.parametrize(("path", "value", "fault"), REFUSED, ids=lambda v: str(v))
def test_a_bad_import_is_refused_as_the_hub_refused_it(
    world: HubClient, path: str, value: Any, fault: tuple[int, str]
) -> None:
    """One change to good metadata gets the recorded hub's fault, and the
    reservation (and its token) still works afterwards."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    bad = copy.deepcopy(metadata(world, reserved["build_id"]))
    _change(path, value)(bad)
    assert world.fault_of("CGImport", bad, DIRECTORY, reserved["token"]) == fault
    good = metadata(world, reserved["build_id"])
    assert world.call("CGImport", good, DIRECTORY, reserved["token"])["state"] == 1


def test_a_file_missing_from_the_upload_directory_is_a_python_error(
    hub: KojiHub, world: HubClient
) -> None:
    """The hub's os.path.getsize fails: fault 1 with the file's path."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    bad = metadata(world, reserved["build_id"])
    bad["output"][0]["filename"] = "absent.txt"
    code, text = world.fault_of("CGImport", bad, DIRECTORY, reserved["token"])
    assert code == 1 and text.startswith("<class 'FileNotFoundError'>")
    assert f"{hub.upload_dir}/{DIRECTORY}/absent.txt" in text


@pytest.mark.parametrize("variant", ["sha256", "json", "txt-log"])
def test_imports_the_hub_accepted_as_well(world: HubClient, variant: str) -> None:
    """A sha256 checksum, the metadata as JSON text, a .txt output of type log."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    data: Any = metadata(world, reserved["build_id"])
    if variant == "sha256":
        data["output"][0]["checksum_type"] = "sha256"
        data["output"][0]["checksum"] = hashlib.sha256(
            FILES["modulemd.txt"]
        ).hexdigest()
    elif variant == "txt-log":
        data["output"][1] = {**data["output"][1], "type": "log"}
    else:
        data = json.dumps(data)
    build = world.call("CGImport", data, DIRECTORY, reserved["token"])
    archives = world.call("listArchives", buildID=build["id"])
    assert len(archives) == (1 if variant == "txt-log" else 2)
    if variant == "sha256":
        assert archives[0]["checksum_type"] == koji.CHECKSUM_TYPES["sha256"]


@pytest.mark.parametrize("absent", [False, True])
def test_a_module_without_rpms_is_imported_with_its_modulemd_only(
    world: HubClient, absent: bool
) -> None:
    """A metadata-only module: its documents list no RPM (``components``
    empty, or left out: optional, as on the hub) and its buildroot none. The
    build is COMPLETE, its two archives link no RPM, and with nothing
    unmatched the hub writes no cg_import.log."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    data = metadata(world, reserved["build_id"])
    data["buildroots"][0]["components"] = []
    for output in data["output"]:
        if output["type"] == "file" and absent:
            del output["components"]
        elif output["type"] == "file":
            output["components"] = []
    build = world.call("CGImport", data, DIRECTORY, reserved["token"])
    assert build["state"] == koji.BUILD_STATES["COMPLETE"]
    archives = world.call("listArchives", buildID=build["id"], type="module")
    assert [a["filename"] for a in archives] == ["modulemd.txt", "modulemd.x86_64.txt"]
    for archive in archives:
        assert world.call("listRPMs", imageID=archive["id"]) == []
    logs = world.call("getBuildLogs", build["id"])
    assert [log["name"] for log in logs] == ["build.log"]


@pytest.mark.parametrize("name", ["metadata.json", "other.json", None])
def test_metadata_uploaded_as_a_json_file_is_read_from_the_directory(
    world: HubClient, name: str | None
) -> None:
    """As the hub's get_metadata: a string ending in .json names a file in
    the upload directory (nil means metadata.json)."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    data = json.dumps(metadata(world, reserved["build_id"])).encode()
    upload(world, name or "metadata.json", data)
    build = world.call("CGImport", name, DIRECTORY, reserved["token"])
    assert build["state"] == koji.BUILD_STATES["COMPLETE"]
    assert len(world.call("listArchives", buildID=build["id"])) == 2


def test_string_metadata_neither_an_uploaded_file_nor_json_is_refused(
    world: HubClient,
) -> None:
    """A .json name not uploaded is no such file; other text is bad JSON
    (the hub's parse_json message); the reservation still works."""
    reserved = world.call("CGInitBuild", CG, dict(NVR))
    token = reserved["token"]
    assert world.fault_of("CGImport", "metadata.json", DIRECTORY, token) == (
        1000,
        "No such file: metadata.json",
    )
    assert world.fault_of("CGImport", "metadata.yaml", DIRECTORY, token) == (
        1000,
        "Invalid json data: 'metadata.yaml'",
    )
    good = metadata(world, reserved["build_id"])
    assert world.call("CGImport", good, DIRECTORY, token)["state"] == 1


def test_refund_to_canceled_and_cancel_of_a_task_build(
    clock: Clock, hub: KojiHub, admin: HubClient
) -> None:
    """CGRefundBuild takes FAILED or CANCELED only; cancelBuild of a
    builder's BUILDING build cancels its task too."""
    reserved = admin.call("CGInitBuild", CG, dict(NVR))
    assert admin.fault_of(
        "CGRefundBuild", CG, reserved["build_id"], reserved["token"], 1
    ) == (
        1000,
        "Only FAILED/CANCELED build states are allowed",
    )
    admin.call("CGRefundBuild", CG, reserved["build_id"], reserved["token"], 4)
    assert admin.call("getBuild", reserved["build_id"])["state"] == 4
    seed_module_tags(admin)
    task_id = admin.call("build", "git://h/rpms/alpha.git?#c", "mod", {})
    for _ in range(4):
        clock.advance(0.1)
    [build] = admin.call("listBuilds", taskID=task_id)
    assert admin.call("cancelBuild", build["build_id"]) is True
    assert admin.call("getTaskInfo", task_id)["state"] == koji.TASK_STATES["CANCELED"]
    assert admin.call("cancelBuild", build["build_id"]) is False
