"""A submission's options (scratch, rebuild strategy, reuse source, a
modulemd in the body, SRPMs): their form, what the ``builds`` settings
allow, the SRPMs' mapping to components, and the multipart form fedpkg's
file upload sends."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.web.test.requesthelper import DummyRequest

from ridad.api.build_choices import check_branch, rebuild_strategy, scratch_choices
from ridad.api.component_checks import srpm_overrides
from ridad.api.mbs_params import Problems
from ridad.api.multipart import form_fields, is_multipart
from ridad.api.submit_options import SubmitOptions, parse_options
from ridad.config.model import BuildsConfig
from ridad.config.parse import parse_config
from ridad.domain.scheduling import koji_tag_name
from ridad.errors import ConfigError, Forbidden, InvalidRequest, Unprocessable
from ridad.modulemd.parse import load_modulemd
from tests.unit.api.support import modulemd


def options(body: dict[str, Any]) -> tuple[SubmitOptions, dict[str, str]]:
    problems = Problems()
    return parse_options(body, problems), problems.found


def test_options_default_to_a_plain_submission() -> None:
    assert options({}) == (SubmitOptions(), {})


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), ("true", True), ("True", True), ("0", False), (None, False)],
)
def test_scratch_accepts_booleans_and_form_strings(value: Any, expected: bool) -> None:
    assert options({"scratch": value})[0].scratch is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12, 12), ("12", 12), ("demo:main:4020261204000000:c0ffee42", None)],
)
def test_a_reuse_source_is_an_id_or_an_nsvc(value: Any, expected: Any) -> None:
    parsed, found = options({"reuse_components_from": value})
    assert found == {}
    assert parsed.reuse_components_from == (value if expected is None else expected)


@pytest.mark.parametrize(
    "body",
    [
        {"scratch": "maybe"},
        {"reuse_components_from": True},
        {"reuse_components_from": 0},
        {"reuse_components_from": "demo:main"},
        {"rebuild_strategy": 3},
        {"modulemd": "a\x00b"},
        {"srpms": [1]},
        {"srpms": {"a": "b"}},
        {"module_name": "x"},
        {"module_stream": "x"},
    ],
)
def test_malformed_options_are_named(body: dict[str, Any]) -> None:
    _, found = options(body)
    assert set(found) == set(body)


def test_the_strategy_defaults_and_must_be_allowed() -> None:
    config = BuildsConfig(rebuild_strategies_allowed=("changed-and-after",))
    assert rebuild_strategy(config, SubmitOptions()) == "changed-and-after"
    with pytest.raises(InvalidRequest, match='"only-changed" is not allowed'):
        rebuild_strategy(config, SubmitOptions(rebuild_strategy="only-changed"))
    with pytest.raises(InvalidRequest, match="reuse_components_from"):
        rebuild_strategy(
            BuildsConfig(),
            SubmitOptions(rebuild_strategy="all", reuse_components_from=3),
        )


def test_scratch_and_srpms_follow_the_settings() -> None:
    with pytest.raises(Forbidden, match="Scratch builds are not enabled"):
        scratch_choices(BuildsConfig(allow_scratch=False), SubmitOptions(scratch=True))
    with pytest.raises(Forbidden, match="only be specified for scratch"):
        scratch_choices(BuildsConfig(), SubmitOptions(srpms=("cli-build/x/a.src.rpm",)))
    scratch_choices(BuildsConfig(), SubmitOptions(scratch=True, srpms=("x",)))


def test_scratch_branches_take_only_scratch_builds() -> None:
    config = BuildsConfig(scratch_branches=(r"^private-",))
    with pytest.raises(InvalidRequest, match="Only scratch module builds"):
        check_branch(config, False, "private-try")
    check_branch(config, True, "private-try")
    check_branch(config, False, "main")


def test_srpms_replace_the_components_they_are_named_for() -> None:
    document = load_modulemd(modulemd(("alpha", "beta")))
    path = "cli-build/1764876543.abc/beta.src.rpm"
    assert srpm_overrides([path], document) == {"beta": path}
    for bad in (
        ["/tmp/beta.src.rpm"],
        ["cli-build/../etc/beta.src.rpm"],
        ["cli-build/x/gamma.src.rpm"],
        [path, "cli-build/y/beta.src.rpm"],
        ["cli-build/x/beta.rpm"],
    ):
        with pytest.raises(Unprocessable, match="srpms cannot be used"):
            srpm_overrides(bad, document)


def multipart_request(body: bytes, boundary: str = "b0undary") -> DummyRequest:
    request = DummyRequest([b""])
    request.method = b"POST"
    request.requestHeaders.setRawHeaders(
        b"content-type", [f"multipart/form-data; boundary={boundary}".encode()]
    )
    return request


def test_a_multipart_upload_reads_like_a_json_body() -> None:
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="scratch"\r\n\r\n'
        b"true\r\n"
        b'--b0undary\r\nContent-Disposition: form-data; name="srpms"\r\n\r\na\r\n'
        b'--b0undary\r\nContent-Disposition: form-data; name="srpms"\r\n\r\nb\r\n'
        b'--b0undary\r\nContent-Disposition: form-data; name="yaml";'
        b' filename="dir/tried.yaml"\r\n\r\ndocument: modulemd\r\n'
        b"--b0undary--\r\n"
    )
    request = multipart_request(body)
    assert is_multipart(request)
    assert form_fields(request, body) == {
        "scratch": "true",
        "srpms": ["a", "b"],
        "modulemd": "document: modulemd",
        "module_name": "tried",
    }


def test_a_multipart_form_without_its_file_is_400() -> None:
    body = (
        b'--b0undary\r\nContent-Disposition: form-data; name="scratch"\r\n\r\n'
        b"true\r\n--b0undary--\r\n"
    )
    with pytest.raises(InvalidRequest, match="Invalid file submitted"):
        form_fields(multipart_request(body), body)


def test_the_builds_section_is_read_and_checked() -> None:
    scm = "scm:\n  rpms_default_repository: git://h/rpms/\n"
    config = parse_config(
        scm + "builds:\n  rebuild_strategy_default: only-changed\n"
        "  rebuild_strategies_allowed: [all]\n  allow_scratch: false\n"
        "  scratch_branches: ['^private-']\n  allow_yaml_submissions: true\n"
    )
    assert config.builds == BuildsConfig(
        rebuild_strategy_default="only-changed",
        rebuild_strategies_allowed=("all", "only-changed"),
        allow_scratch=False,
        scratch_branches=("^private-",),
        allow_yaml_submissions=True,
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(
            scm + "builds:\n  rebuild_strategy_default: some\n"
            "  rebuild_strategies_allowed: [none]\n  scratch_branches: ['(']\n"
        )
    text = "\n".join(raised.value.messages)
    for key in (
        "rebuild_strategy_default",
        "rebuild_strategies_allowed",
        "scratch_branches",
    ):
        assert f"builds.{key}" in text


def test_scratch_tags_are_scrmod_with_the_build_id() -> None:
    assert koji_tag_name("m", "s", 1, "c_1", scratch=True, scratch_id=7) == (
        "scrmod-m-s-1-c_1+7"
    )
    long = koji_tag_name("m" * 300, "s", 1, "c_1", scratch=True, scratch_id=7)
    assert long.startswith("scrmod-") and long.endswith("+7") and len(long) < 40
