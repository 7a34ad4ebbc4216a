"""``twistd kojisim`` options and the service tree makeService builds."""

from __future__ import annotations

import pytest
from twisted.application.internet import StreamServerEndpointService
from twisted.python import usage

from ridad.kojisim.tap import Options, makeService, tls_endpoint


def _parse(*argv: str) -> Options:
    """Parse a command line."""
    options = Options()
    options.parseOptions(list(argv))
    return options


def test_users_and_failing_packages_repeat() -> None:
    """--user NAME:PASSWORD and --fail-package may be given several times."""
    options = _parse(
        "--user", "admin:pw", "--user", "ridad:se:cret",
        "--fail-package", "beta", "--fail-package", "gamma",
        "--build-seconds", "0.5",
    )  # fmt: skip
    assert options["users"] == {"admin": "pw", "ridad": "se:cret"}
    assert options["fail-packages"] == ["beta", "gamma"]
    assert options["fail-buildroot-packages"] == []
    assert options["build-seconds"] == 0.5
    assert options["listen"] == "tcp:8099:interface=127.0.0.1"


def test_failing_buildroot_packages_repeat() -> None:
    """--fail-buildroot-package may be given several times."""
    options = _parse(
        "--fail-buildroot-package", "beta", "--fail-buildroot-package", "delta"
    )  # fmt: skip
    assert options["fail-buildroot-packages"] == ["beta", "delta"]
    assert options["fail-packages"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ("--user", "nopassword"),
        ("--build-seconds", "soon"),
        ("--build-seconds", "-1"),
        ("--tls-cert", "c.pem"),
    ],
)
def test_bad_command_lines_are_usage_errors(argv: tuple[str, ...]) -> None:
    """Malformed users, durations and partial TLS options are refused."""
    with pytest.raises(usage.UsageError):
        _parse(*argv)


def test_make_service_serves_the_hub_on_the_listen_endpoint(tmp_path) -> None:
    """makeService builds the hub and an endpoint service, starting nothing."""
    options = _parse(
        "--listen", "tcp:0:interface=127.0.0.1", "--work-dir", str(tmp_path)
    )
    service = makeService(options)
    servers = [s for s in service if isinstance(s, StreamServerEndpointService)]
    assert len(servers) == 1 and not service.running


def test_the_content_generator_is_module_build_service_unless_switched_off() -> None:
    """By default every --user may import as module-build-service;
    --no-content-generator starts the hub without one."""
    assert _parse()["content-generator"] == "module-build-service"
    assert not _parse()["no-content-generator"]
    assert _parse("--no-content-generator")["no-content-generator"]
    assert _parse("--content-generator", "other-cg")["content-generator"] == "other-cg"


def test_tls_needs_a_tcp_listen_endpoint() -> None:
    """With TLS options the listen endpoint must be tcp:PORT[:interface=...]."""
    with pytest.raises(usage.UsageError):
        tls_endpoint(object(), "unix:/tmp/sock", cert="c", key="k", ca="a")
