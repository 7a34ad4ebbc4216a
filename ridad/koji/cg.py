"""The module's own Koji build, imported as a content generator: the part of
``KojiHub`` that gathers a module's RPMs and licenses, reserves, uploads,
imports, refunds and cancels its build (docs/koji.md §12).

What Koji answers that the import must reconcile rather than fail on comes
back as None: a reservation or build of that NVR that exists already, a
token that no longer matches, or an answer lost after the hub ran the call.
The caller then looks the NVR up (``find_build``) and goes on from what it
finds, so nothing is reserved or imported twice. A missing content-generator
grant or build type fails with what the Koji administrator must run once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ridad.domain.koji import KojiBuild
from ridad.domain.module_import import CgReservation, ModuleNvr
from ridad.errors import KojiAnswerLost, KojiError, KojiFault
from ridad.koji.cg_metadata import KojiRpm, ModuleContent
from ridad.koji.client import KojiClient
from ridad.koji.tags import checked
from ridad.koji.upload import check_upload
from ridad.koji.values import build_from_info
from ridad.koji.wire import KojiCall
from ridad.modulemd.final import BuiltRpm

__all__ = ["CgOperations", "access_instruction"]

#: Koji's answers that mean "this NVR is there already": reconcile, don't fail.
_EXISTS = (
    "Build is already reserved",
    "Build already exists",
    "Token doesn't match build ID",
)
_NO_GENERATOR = "No such entry in table content_generator"
_NO_ACCESS = "Content generator access required"
_NO_BTYPE = "No such entry in table btype"
MODULE_BTYPE = "module"


def access_instruction(fault: KojiFault, *, user: str, generator: str) -> str | None:
    """What the Koji administrator must run once, when ``fault`` says ridad
    may not import as ``generator`` (or the hub has no module build type);
    None for any other fault."""
    if _NO_GENERATOR in fault.message:
        command = f"koji grant-cg-access {user} {generator} --new"
        return (
            f"Koji has no content generator {generator}: a Koji administrator"
            f" must run once `{command}` (and `koji call addBType {MODULE_BTYPE}`"
            " if `koji list-btypes` does not list it)"
        )
    if _NO_ACCESS in fault.message:
        command = f"koji grant-cg-access {user} {generator}"
        return (
            f"ridad's Koji user {user} may not import as the content generator"
            f" {generator}: a Koji administrator must run once `{command}`"
        )
    if _NO_BTYPE in fault.message:
        return (
            f"Koji has no build type {MODULE_BTYPE}: a Koji administrator must"
            f" run once `koji call addBType {MODULE_BTYPE}`"
        )
    return None


class CgOperations:
    """Content-generator operations on the module's own Koji build."""

    _client: KojiClient

    async def module_content(
        self, builds: Sequence[tuple[str, int | str]], *, tag: str, owner: str
    ) -> ModuleContent:
        """Every RPM of the ``(component, Koji build id or NVR)`` builds with
        its License header, the arches of the module's ``tag``, and whether
        Koji knows ``owner``: two multicalls (the RPM lists with the tag and
        the user, then every RPM's headers).

        :raises KojiFault: when Koji refused a lookup.
        :raises KojiError: when the tag or an RPM's headers are missing.
        """
        answers = await self._client.multicall(
            [
                KojiCall("getTag", (tag,)),
                KojiCall("getUser", (owner,)),
            ]
            + [KojiCall("listBuildRPMs", (build,)) for _, build in builds]
        )
        checked(answers, "read the RPMs of the module's builds")
        if not isinstance(answers[0], Mapping):
            raise KojiError(f"Koji has no tag {tag}, the module's")
        listed = [
            (component, info)
            for (component, _), infos in zip(builds, answers[2:], strict=True)
            for info in infos
        ]
        headers = (
            []
            if not listed
            else await self._client.multicall(
                [
                    KojiCall(
                        "getRPMHeaders",
                        (),
                        {"rpmID": info["id"], "headers": ["license"]},
                    )
                    for _, info in listed
                ]
            )
        )
        checked(headers, "read the licenses of the module's RPMs")
        rpms = tuple(
            _koji_rpm(component, info, found)
            for (component, info), found in zip(listed, headers, strict=True)
        )
        arches = tuple(str(answers[0].get("arches") or "").split())
        return ModuleContent(rpms=rpms, arches=arches, owner_known=bool(answers[1]))

    async def find_build(self, nvr: str) -> KojiBuild | None:
        """The Koji build of ``nvr``, whatever its state; None if there is none.

        :raises KojiUnavailable: Koji stayed unreachable.
        """
        info = await self._client.call("getBuild", nvr)
        return None if info is None else build_from_info(info)

    async def reserve_build(
        self, generator: str, nvr: ModuleNvr
    ) -> CgReservation | None:
        """Reserve the module's build (``CGInitBuild``); None when Koji has
        that NVR already (reserved or complete) or the answer was lost.

        :raises KojiFault: when Koji refused otherwise (a missing grant: with
            the administrator's instruction).
        """
        data = {"name": nvr.name, "version": nvr.version, "release": nvr.release}
        try:
            answer = await self._client.call("CGInitBuild", generator, data)
        except KojiAnswerLost:
            return None
        except KojiFault as fault:
            if _exists(fault):
                return None
            raise await self._refusal(fault, generator, f"reserve {nvr.nvr}") from None
        if (
            not isinstance(answer, Mapping)
            or type(answer.get("build_id")) is not int
            or not isinstance(answer.get("token"), str)
        ):
            raise KojiError(f"Koji answered CGInitBuild with {answer!r:.100}")
        return CgReservation(build_id=answer["build_id"], token=answer["token"])

    async def upload_outputs(
        self, files: Sequence[tuple[str, bytes]], *, directory: str
    ) -> None:
        """Upload the import's files into ``directory`` of Koji's work area.

        :raises KojiError: when the hub stored something else.
        """
        for name, data in files:
            await self._client.upload_chunks(data, path=directory, name=name)
        answers = await self._client.multicall(
            [
                KojiCall("checkUpload", (directory, name), {"verify": "adler32"})
                for name, _ in files
            ]
        )
        checked(answers, "check the uploaded files")
        for (name, data), answer in zip(files, answers, strict=True):
            check_upload(answer, directory, name, data)

    async def import_build(
        self,
        generator: str,
        metadata: Mapping[str, Any] | str,
        *,
        directory: str,
        token: str,
    ) -> KojiBuild | None:
        """Complete the reserved build (``CGImport``) from its metadata: the
        struct, or the name of the file it was uploaded as into
        ``directory``; None when Koji has the NVR already (or no longer
        matches the token) or the answer was lost.

        :raises KojiFault: when Koji refused the import.
        """
        try:
            answer = await self._client.call("CGImport", metadata, directory, token)
        except KojiAnswerLost:
            return None
        except KojiFault as fault:
            if _exists(fault):
                return None
            raise await self._refusal(
                fault, generator, f"import {_described(metadata, directory)}"
            ) from None
        return build_from_info(answer)

    async def refund_build(self, generator: str, build_id: int, token: str) -> None:
        """Give a reservation back (``CGRefundBuild``): the build is FAILED.

        :raises KojiFault: when Koji refused (a build no longer BUILDING).
        """
        try:
            await self._client.call("CGRefundBuild", generator, build_id, token)
        except KojiAnswerLost:
            return

    async def cancel_build(self, build_id: int) -> None:
        """Drop a reservation whose token is lost (``cancelBuild``).

        :raises KojiFault: when Koji refused.
        """
        try:
            await self._client.call("cancelBuild", build_id)
        except KojiAnswerLost:
            return

    async def _refusal(self, fault: KojiFault, generator: str, what: str) -> KojiFault:
        """The fault to raise: Koji's words, with the administrator's
        instruction when a grant or the build type is missing."""
        message = (
            f"Koji refused to {what} as content generator {generator}: {fault.message}"
        )
        if any(
            mark in fault.message for mark in (_NO_GENERATOR, _NO_ACCESS, _NO_BTYPE)
        ):
            user = await self._client.call("getLoggedInUser")
            name = str(user["name"]) if user else "<ridad's Koji user>"
            instruction = access_instruction(fault, user=name, generator=generator)
            message = f"{message}. {instruction}"
        return KojiFault(
            message, fault_code=fault.fault_code, fault_name=fault.fault_name
        )


def _described(metadata: Mapping[str, Any] | str, directory: str) -> str:
    """The build a metadata imports, by NVR (or by its uploaded file)."""
    if isinstance(metadata, str):
        return f"the build of {directory}/{metadata}"
    build = metadata.get("build") or {}
    return "-".join(str(build.get(k)) for k in ("name", "version", "release"))


def _exists(fault: KojiFault) -> bool:
    return any(mark in fault.message for mark in _EXISTS)


def _koji_rpm(component: str, info: Mapping[str, Any], headers: Any) -> KojiRpm:
    """One listed RPM with its License header.

    :raises KojiError: when Koji gave no headers for it, or a bad RPM.
    """
    if not isinstance(headers, Mapping) or not headers:
        raise KojiError(f"Koji has no headers of RPM {info.get('id')!r}")
    try:
        epoch = info["epoch"]
        built = BuiltRpm(
            name=str(info["name"]),
            epoch=None if epoch is None else int(epoch),
            version=str(info["version"]),
            release=str(info["release"]),
            arch=str(info["arch"]),
            license=headers.get("license")
            if isinstance(headers.get("license"), str)
            else None,
            component=component,
        )
        return KojiRpm(
            built=built, rpm_id=int(info["id"]), payloadhash=str(info["payloadhash"])
        )
    except (KeyError, TypeError, ValueError):
        raise KojiError(f"Malformed Koji RPM info: {info!r:.200}") from None
