"""Where ``rida`` takes its server and credentials from: a flag, then the
environment, then ``~/.config/rida/config.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ridad.cli.exits import UsageError
from ridad.cli.settings import Settings, api_url
from tests.unit.cli.fakembs import Cli, FakeMbs


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    cli = Cli(fake=FakeMbs(), home=tmp_path)
    del cli.environ["RIDA_SERVER"]
    return cli


def write_config(home: Path, text: str) -> Path:
    path = home / ".config" / "rida" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def settings_of(cli: Cli, *argv: str) -> Settings:
    assert cli.run(*argv, "about") == 0, cli.err.getvalue()
    return cli.settings_seen[-1]


def test_default_server_is_the_local_ridad(cli: Cli) -> None:
    """Without any setting the server is ridad's default listen address."""
    settings = settings_of(cli)
    assert settings.api_url == "http://127.0.0.1:8080/module-build-service/2/"
    assert settings.token is None


def test_config_file_gives_server_and_token(cli: Cli) -> None:
    """The configuration file's server and token are used."""
    write_config(cli.home, "server: https://file.example.org/\ntoken: from-file\n")
    settings = settings_of(cli)
    assert settings.api_url == "https://file.example.org/module-build-service/2/"
    assert settings.token == "from-file"


def test_environment_wins_over_the_file(cli: Cli) -> None:
    """RIDA_SERVER and RIDA_TOKEN win over the configuration file."""
    write_config(cli.home, "server: https://file.example.org\ntoken: from-file\n")
    cli.environ.update(RIDA_SERVER="http://env.example.org", RIDA_TOKEN="from-env")
    settings = settings_of(cli)
    assert settings.server == "http://env.example.org"
    assert settings.token == "from-env"


def test_flags_win_over_environment_and_file(cli: Cli) -> None:
    """--server and --token win over the environment and the file."""
    write_config(cli.home, "server: https://file.example.org\ntoken: from-file\n")
    cli.environ.update(RIDA_SERVER="http://env.example.org", RIDA_TOKEN="from-env")
    settings = settings_of(cli, "--server", "http://flag.example.org", "--token", "t")
    assert settings.server == "http://flag.example.org"
    assert settings.token == "t"


def test_xdg_config_home_moves_the_file(cli: Cli, tmp_path: Path) -> None:
    """$XDG_CONFIG_HOME/rida/config.yaml is read when XDG_CONFIG_HOME is set."""
    other = tmp_path / "xdg"
    (other / "rida").mkdir(parents=True)
    (other / "rida" / "config.yaml").write_text("server: http://xdg.example.org\n")
    cli.environ["XDG_CONFIG_HOME"] = str(other)
    assert settings_of(cli).server == "http://xdg.example.org"


def test_certificate_paths_come_from_the_file_with_tilde(cli: Cli) -> None:
    """cert, key, ca and user come from the file; ~ is the HOME."""
    write_config(
        cli.home, "cert: ~/rida.crt\nkey: ~/rida.key\nca: /etc/ca.pem\nuser: carol\n"
    )
    settings = settings_of(cli)
    assert settings.cert == str(cli.home / "rida.crt")
    assert settings.key == str(cli.home / "rida.key")
    assert (settings.ca, settings.user) == ("/etc/ca.pem", "carol")


def test_key_defaults_to_the_certificate_file(cli: Cli) -> None:
    """--cert alone means the key is in the certificate's file."""
    settings = settings_of(cli, "--cert", "/tmp/both.pem")
    assert settings.key == "/tmp/both.pem"


def test_key_without_certificate_is_a_usage_error(cli: Cli) -> None:
    """--key without --cert exits 2."""
    assert cli.run("--key", "/tmp/k.pem", "about") == 2
    assert "pass --cert too" in cli.err.getvalue()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("sever: http://x\ntokn: y\n", "unknown key 'sever'"),
        ("server: [1, 2]\n", "server: must be a non-empty string"),
        ("server: 'x\n", "is not valid YAML"),
        ("- server\n", "must be a mapping"),
    ],
)
def test_bad_config_file_is_a_usage_error_naming_the_file(
    cli: Cli, text: str, complaint: str
) -> None:
    """A bad configuration file exits 2 naming the file and the problem."""
    path = write_config(cli.home, text)
    assert cli.run("about") == 2
    err = cli.err.getvalue()
    assert str(path) in err and complaint in err
    assert cli.fake.requests == []


def test_every_config_problem_is_reported_at_once(cli: Cli) -> None:
    """Two unknown keys are both named."""
    write_config(cli.home, "sever: http://x\ntokn: y\n")
    cli.run("about")
    assert "'sever'" in cli.err.getvalue() and "'tokn'" in cli.err.getvalue()


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("http://h", "http://h/module-build-service/2/"),
        ("http://h:8080/", "http://h:8080/module-build-service/2/"),
        ("https://h/mbs", "https://h/mbs/module-build-service/2/"),
        ("https://h/module-build-service/2", "https://h/module-build-service/2/"),
        ("https://h/module-build-service/2/", "https://h/module-build-service/2/"),
    ],
)
def test_api_url_appends_the_api_path_once(server: str, expected: str) -> None:
    """The API path is appended unless the server URL already ends with it."""
    assert api_url(server) == expected


@pytest.mark.parametrize(
    "server",
    [
        "ftp://h",
        "h:8080",
        "http://",
        "http://h/?x=1",
        "http://[",
        "http://h:x",
        "http://a b",
    ],
)
def test_bad_server_url_is_a_usage_error(cli: Cli, server: str) -> None:
    """A server URL that is not http(s)://host exits 2."""
    assert cli.run("--server", server, "about") == 2
    assert "bad server URL" in cli.err.getvalue()


@given(st.one_of(st.text(), st.builds("http://{}".format, st.text())))
def test_api_url_of_anything_is_an_api_url_or_a_usage_error(server: str) -> None:
    """api_url either gives a URL ending with the API path or raises UsageError."""
    try:
        url = api_url(server)
    except UsageError:
        return
    assert url.startswith(("http://", "https://"))
    assert url.endswith("/module-build-service/2/")
