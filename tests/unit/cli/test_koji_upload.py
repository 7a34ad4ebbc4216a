"""``rida submit --srpm``'s half in Koji: the SRPM's Name from its header,
the koji profile, the login its authtype names, and the uploads into
``cli-build/`` (a recording stand-in for ``koji.ClientSession``)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest

from ridad.cli.exits import UsageError
from ridad.cli.koji_upload import (
    KojiTarget,
    KojiUploadError,
    koji_options,
    login,
    unique_path,
    upload_srpms,
)
from ridad.cli.srpm import srpm_name
from tests.unit.cli.rpmfiles import rpm_bytes, rpmbuild_srpm, write_rpm


class Session:
    """Records what rida asks of a ``koji.ClientSession``."""

    def __init__(self, hub: str, opts: dict[str, Any], fail: str | None = None):
        self.hub, self.opts, self.fail = hub, opts, fail
        self.calls: list[tuple[str, Any]] = []
        self.logged_in = False

    def _call(self, name: str, value: Any) -> None:
        self.calls.append((name, value))
        if self.fail == name:
            raise RuntimeError(f"{name} went wrong")

    def ssl_login(self, cert: str, ca: Any = None, serverca: Any = None) -> bool:
        self._call("ssl_login", (cert, serverca))
        self.logged_in = True
        return True

    def gssapi_login(self, **kwargs: Any) -> bool:
        self._call("gssapi_login", kwargs)
        self.logged_in = True
        return True

    def uploadWrapper(self, localfile: str, path: str, name: str) -> None:  # noqa: N802
        self._call("uploadWrapper", (localfile, path, name))

    def logout(self) -> None:
        self._call("logout", None)


def write_profile(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def test_srpm_name_reads_what_rpmbuild_wrote(tmp_path: Path) -> None:
    """The Name of a real SRPM (rpmbuild -bs), not its file name."""
    srpm = rpmbuild_srpm(tmp_path, "omega")
    renamed = srpm.rename(tmp_path / "whatever.src.rpm")
    assert srpm_name(str(renamed)) == "omega"


def test_srpm_name_refuses_binary_rpms_and_other_files(tmp_path: Path) -> None:
    """A binary RPM, a file that is no RPM, a truncated one and a missing one
    are usage errors that say what is wrong."""
    binary = write_rpm(tmp_path / "b.rpm", "beta", source=False)
    with pytest.raises(UsageError, match="is a binary RPM, not a source RPM"):
        srpm_name(str(binary))
    (tmp_path / "text.src.rpm").write_text("Name: beta\n" * 20)
    with pytest.raises(UsageError, match="is not an RPM file"):
        srpm_name(str(tmp_path / "text.src.rpm"))
    (tmp_path / "cut.src.rpm").write_bytes(rpm_bytes("beta")[:130])
    with pytest.raises(UsageError, match="truncated"):
        srpm_name(str(tmp_path / "cut.src.rpm"))
    with pytest.raises(UsageError, match="cannot read"):
        srpm_name(str(tmp_path / "absent.src.rpm"))


def test_a_source_package_tag_makes_a_source_rpm(tmp_path: Path) -> None:
    """An SRPM whose lead says binary but whose header has SOURCEPACKAGE is
    a source RPM, as rpm decides."""
    srpm = write_rpm(tmp_path / "s.src.rpm", "sigma", lead_source=False)
    assert srpm_name(str(srpm)) == "sigma"


def test_unique_path_is_kojis_cli_build_form() -> None:
    """cli-build/<time.time()>.<8 letters>, a new one each time."""
    first, second = unique_path(), unique_path()
    assert re.fullmatch(r"cli-build/\d+\.\d+\.[A-Za-z]{8}", first)
    assert first != second


def test_the_profile_of_the_koji_config_gives_hub_and_login(tmp_path: Path) -> None:
    """--koji-config's [profile] gives the hub and authtype; --koji-hub wins."""
    config = write_profile(
        tmp_path / "koji.conf",
        "[stg]\nserver = https://koji.example.org/kojihub\nauthtype = ssl\n"
        "cert = ~/.koji/me.pem\n",
    )
    options = koji_options(KojiTarget(profile="stg", config=str(config)))
    assert options["server"] == "https://koji.example.org/kojihub"
    assert options["authtype"] == "ssl"
    assert options["cert"].endswith("/.koji/me.pem")
    hub = "https://other.example.org/kojihub"
    target = KojiTarget(profile="stg", config=str(config), hub=hub)
    assert koji_options(target)["server"] == hub


def test_a_missing_profile_says_how_to_name_one(tmp_path: Path) -> None:
    """No such profile and no --koji-hub: a usage error naming the options;
    with --koji-hub, koji's defaults for that hub (Kerberos login)."""
    config = write_profile(tmp_path / "koji.conf", "[other]\nserver = http://x/\n")
    with pytest.raises(UsageError) as raised:
        koji_options(KojiTarget(profile="absent", config=str(config)))
    message = raised.value.message
    assert "no configuration for profile name: absent" in message
    assert "--koji-profile NAME" in message and "--koji-hub URL" in message
    hub = "https://koji.example.org/kojihub"
    options = koji_options(KojiTarget(profile="absent", config=str(config), hub=hub))
    assert (options["server"], options["authtype"]) == (hub, None)
    with pytest.raises(UsageError, match="no Koji configuration file"):
        koji_options(KojiTarget(config=str(tmp_path / "nothing.conf")))


@pytest.mark.parametrize(
    ("options", "call"),
    [
        (
            {"authtype": "ssl", "cert": "/me.pem", "serverca": "/ca.pem"},
            ("ssl_login", ("/me.pem", "/ca.pem")),
        ),
        ({"authtype": "kerberos", "cert": ""}, ("gssapi_login", {})),
        ({"authtype": None, "cert": ""}, ("gssapi_login", {})),
        (
            {"authtype": None, "principal": "me@R", "keytab": "/k", "cert": ""},
            ("gssapi_login", {"principal": "me@R", "keytab": "/k"}),
        ),
    ],
)
def test_login_is_the_one_the_authtype_names(
    options: dict[str, Any], call: tuple[str, Any]
) -> None:
    """ssl: the certificate; kerberos or none: GSSAPI, with the profile's
    principal and keytab when it has them."""
    session = Session("hub", {})
    login(session, {"server": "https://hub/", **options}, KojiTarget())
    assert session.calls == [call]


def test_without_authtype_an_existing_certificate_means_ssl(tmp_path: Path) -> None:
    """As koji's CLI: no authtype and a cert file that exists is an SSL login."""
    cert = tmp_path / "client.crt"
    cert.write_text("PEM")
    session = Session("hub", {})
    login(
        session,
        {"server": "https://hub/", "authtype": None, "cert": str(cert)},
        KojiTarget(),
    )
    assert session.calls == [("ssl_login", (str(cert), None))]


@pytest.mark.parametrize(
    ("authtype", "expected"),
    [("noauth", "uploads need a login"), ("password", "kerberos or ssl only")],
)
def test_authtypes_that_cannot_upload_are_usage_errors(
    authtype: str, expected: str
) -> None:
    """noauth and password (koji takes its password from flags only) say
    which authtype to set."""
    with pytest.raises(UsageError, match=expected):
        login(Session("hub", {}), {"server": "h", "authtype": authtype}, KojiTarget())


def test_a_failed_login_says_what_to_do() -> None:
    """A Kerberos login that fails names the hub and says to run kinit."""
    session = Session("hub", {}, fail="gssapi_login")
    with pytest.raises(KojiUploadError) as raised:
        login(session, {"server": "https://hub/", "authtype": "kerberos"}, KojiTarget())
    assert raised.value.message == (
        "cannot log in to Koji at https://hub/ with Kerberos (GSSAPI):"
        " gssapi_login went wrong; run kinit (or set principal and keytab in the"
        " profile), or pass --koji-profile for another Koji"
    )


def _koji_config(tmp_path: Path) -> str:
    config = tmp_path / "koji.conf"
    config.write_text(
        "[koji]\nserver = https://hub.example.org/kojihub\nauthtype = kerberos\n"
    )
    return str(config)


def test_upload_srpms_logs_in_then_uploads_each_under_its_name(tmp_path: Path) -> None:
    """Each SRPM goes to its own cli-build/ directory as <Name>.src.rpm; the
    session logs out at the end; the answer is the upload paths."""
    first = write_rpm(tmp_path / "alpha-1.0-1.src.rpm", "alpha")
    second = write_rpm(tmp_path / "b.src.rpm", "beta")
    sessions: list[Session] = []

    def factory(hub: str, opts: dict[str, Any]) -> Session:
        sessions.append(Session(hub, opts))
        return sessions[-1]

    target = KojiTarget(config=_koji_config(tmp_path))
    uploads = upload_srpms([str(first), str(second)], target, session_factory=factory)
    [session] = sessions
    assert session.hub == "https://hub.example.org/kojihub"
    # koji's defaults (30 tries 20 s apart) are capped
    assert (session.opts["max_retries"], session.opts["retry_interval"]) == (3, 5)
    names = [call[0] for call in session.calls]
    assert names == ["gssapi_login", "uploadWrapper", "uploadWrapper", "logout"]
    (file1, dir1, name1), (file2, dir2, name2) = (c[1] for c in session.calls[1:3])
    assert (file1, name1, file2, name2) == (
        str(first),
        "alpha.src.rpm",
        str(second),
        "beta.src.rpm",
    )
    assert dir1 != dir2 and dir1.startswith("cli-build/")
    assert [(u.file, u.path) for u in uploads] == [
        (str(first), f"{dir1}/alpha.src.rpm"),
        (str(second), f"{dir2}/beta.src.rpm"),
    ]


def test_a_file_that_is_no_srpm_stops_before_koji(tmp_path: Path) -> None:
    """Names are read before the session is made: nothing reaches Koji."""
    binary = write_rpm(tmp_path / "b.rpm", "beta", source=False)

    def factory(hub: str, opts: dict[str, Any]) -> Session:
        raise AssertionError("Koji was reached")

    with pytest.raises(UsageError, match="binary RPM"):
        upload_srpms(
            [str(binary)],
            KojiTarget(config=_koji_config(tmp_path)),
            session_factory=factory,
        )


def test_a_failed_upload_says_so_and_still_logs_out(tmp_path: Path) -> None:
    """An upload that fails is a KojiUploadError naming the file and hub."""
    srpm = write_rpm(tmp_path / "a.src.rpm", "alpha")
    session = Session("", {}, fail="uploadWrapper")
    with pytest.raises(KojiUploadError) as raised:
        upload_srpms(
            [str(srpm)],
            KojiTarget(config=_koji_config(tmp_path)),
            session_factory=lambda hub, opts: session,
        )
    assert raised.value.message.startswith(
        f"uploading {srpm} to Koji at https://hub.example.org/kojihub failed:"
        " uploadWrapper went wrong;"
    )
    assert session.calls[-1] == ("logout", None)


def test_without_the_koji_library_rida_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """koji not importable: a usage error naming the packages to install."""
    srpm = write_rpm(tmp_path / "a.src.rpm", "alpha")
    monkeypatch.setitem(sys.modules, "koji", None)
    with pytest.raises(UsageError, match="pip install koji"):
        upload_srpms([str(srpm)], KojiTarget())
