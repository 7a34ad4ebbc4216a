"""The commands of ``rida``: each returns its exit status."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from twisted.internet.interfaces import IReactorTime

from ridad.cli.auth import default_user
from ridad.cli.check import check
from ridad.cli.client import MbsClient
from ridad.cli.exits import OK, UsageError
from ridad.cli.koji_upload import KojiTarget, SrpmUploader
from ridad.cli.render import list_text, mapping_text, nsvc, show_text
from ridad.cli.settings import Settings
from ridad.cli.submit_body import check_srpm_files, submission_body, warnings
from ridad.cli.wakeups import EventWakeups
from ridad.cli.watch import (
    JsonReporter,
    LineReporter,
    Reporter,
    TerminalReporter,
    component_rows,
    watch_builds,
)


@dataclass(frozen=True)
class Invocation:
    """One run of ``rida``: its arguments, settings, client and terminal."""

    args: argparse.Namespace
    settings: Settings
    client: MbsClient
    clock: IReactorTime
    environ: Mapping[str, str]
    out: IO[str]
    err: IO[str]
    tty: bool
    width: int
    #: Uploads ``--srpm`` files to Koji (off the reactor thread).
    uploader: SrpmUploader

    def print(self, *lines: str) -> None:
        """Write ``lines`` to stdout."""
        for line in lines:
            self.out.write(line + "\n")
        self.out.flush()

    def print_json(self, value: Any) -> None:
        """Write ``value`` as indented JSON to stdout."""
        self.print(json.dumps(value, indent=2))

    def reporter(self) -> Reporter:
        """How ``watch`` shows progress here."""
        if self.args.json:
            return JsonReporter(self.out, self.err)
        if self.tty:
            return TerminalReporter(self.out, width=self.width)
        return LineReporter(self.out, self.err)


async def submit(run: Invocation) -> int:
    """``rida submit [SCMURL] [--file F] [--scratch] [--srpm S]... [--watch]``."""
    args = run.args
    for warning in warnings(args):
        run.err.write(f"rida: warning: {warning}\n")
    submission_body(args, [])  # usage errors before any upload
    check_srpm_files(args.srpms or ())
    srpms = await _upload_srpms(run)
    builds = await run.client.submit(submission_body(args, srpms))
    if args.json:
        run.out.write(json.dumps(builds) + "\n")
    else:
        for build in builds:
            kind = "scratch module build" if build.get("scratch") else "module build"
            run.print(f"Submitted {kind} {build['id']}: {nsvc(build)}")
    ids = [build["id"] for build in builds]
    if not args.watch:
        if not args.json:
            run.print(f"Watch it with: rida watch {' '.join(map(str, ids))}")
        return OK
    return await _watch(run, ids)


async def _upload_srpms(run: Invocation) -> list[str]:
    """Upload ``--srpm`` files to Koji; their upload paths."""
    files = run.args.srpms or []
    if not files:
        return []
    target = KojiTarget(
        profile=run.args.koji_profile,
        config=run.args.koji_config,
        hub=run.args.koji_hub,
    )
    uploads = await run.uploader(files, target)
    report = run.err if run.args.json else run.out
    for upload in uploads:
        report.write(f"Uploaded {upload.file} to Koji: {upload.path}\n")
    report.flush()
    return [upload.path for upload in uploads]


async def watch(run: Invocation) -> int:
    """``rida watch ID...``: 0 when every build is ready (a scratch build:
    done), 1 when one failed."""
    return await _watch(run, run.args.ids)


async def _watch(run: Invocation, ids: list[int]) -> int:
    wakeups = EventWakeups(client=run.client, clock=run.clock, build_ids=ids)
    try:
        return await watch_builds(
            run.client,
            ids,
            clock=run.clock,
            reporter=run.reporter(),
            interval_seconds=run.args.interval,
            wakeups=wakeups,
        )
    finally:
        wakeups.stop()


async def show(run: Invocation) -> int:
    """``rida show ID``: the build, verbose."""
    build = await run.client.build(run.args.id, verbose=True)
    if run.args.json:
        run.print_json(build)
        return OK
    rows = await component_rows(run.client, build)
    run.print(*show_text(build, rows, await run.client.seed_build(run.args.id)))
    return OK


async def modulemd(run: Invocation) -> int:
    """``rida modulemd ID [--arch A]``: the final modulemd, as Koji has it."""
    document = await run.client.modulemd(run.args.id, run.args.arch)
    run.out.write(document.decode("utf-8"))
    run.out.flush()
    return OK


async def list_builds(run: Invocation) -> int:
    """``rida list [--state S] [--mine] [--limit N]``: newest first."""
    owner = None
    if run.args.mine:
        owner = run.settings.user or default_user(run.environ)
    builds = await run.client.builds(
        states=run.args.state or (), owner=owner, limit=run.args.limit
    )
    if run.args.json:
        run.print_json(builds)
    else:
        run.print(*list_text(builds))
    return OK


async def cancel(run: Invocation) -> int:
    """``rida cancel ID``: the build fails, its Koji tasks are canceled."""
    build = await run.client.cancel(run.args.id)
    if run.args.json:
        run.print_json(build)
        return OK
    reason = build.get("state_reason")
    run.print(
        f"Canceled module build {build['id']} {nsvc(build)}"
        + (f": {reason}" if reason else "")
    )
    return OK


async def retire(run: Invocation) -> int:
    """``rida retire ID``: the build moves to garbage (administrators)."""
    build = await run.client.retire(run.args.id)
    if run.args.json:
        run.print_json(build)
        return OK
    reason = build.get("state_reason")
    run.print(
        f"Retired module build {build['id']} {nsvc(build)}"
        + (f": {reason}" if reason else "")
    )
    return OK


async def import_module(run: Invocation) -> int:
    """``rida import FILE|SCMURL``: record a module built elsewhere (a base
    module) as ready (administrators). A path that exists is sent as the
    modulemd text; anything else is the module's scmurl."""
    source = run.args.source
    path = Path(source)
    if path.is_file():
        try:
            body = {"modulemd": path.read_text(encoding="utf-8")}
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {source}: {exc}") from None
    elif "://" in source:
        body = {"scmurl": source}
    else:
        raise UsageError(f"{source} is neither a file nor an scmurl (git://...?#ref)")
    answer = await run.client.import_module(body)
    if run.args.json:
        run.print_json(answer)
        return OK
    for message in answer.get("messages") or ():
        run.print(str(message))
    module = answer["module"]
    run.print(f"Imported module build {module['id']}: {nsvc(module)}")
    return OK


async def about(run: Invocation) -> int:
    """``rida about``: what the server says it is."""
    answer = await run.client.about()
    if run.args.json:
        run.print_json(answer)
    else:
        run.print(*mapping_text({"server": run.settings.server, **answer}))
    return OK


COMMANDS = {
    "submit": submit,
    "check": check,
    "watch": watch,
    "show": show,
    "modulemd": modulemd,
    "list": list_builds,
    "cancel": cancel,
    "retire": retire,
    "import": import_module,
    "about": about,
}
