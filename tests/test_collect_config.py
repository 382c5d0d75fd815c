"""The collector's configuration: defaults, overrides, secrets, and errors that name file and line."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from auditor.collect import ConfigError, load_config
from auditor.collect.secrets import Secret, redact

ENV = {"SECRET_ENV": "from-env-secret"}

GOOD = """\
[defaults]
every = "5m"
timeout = "30s"
client_id = "https://auditor.example.com"
client_secret_env = "SECRET_ENV"
collector_user = "auditor-collector"
collector_application = "ERP.net auditor collector"

[[instances]]
name = "acme.my.erp.net"

[[instances]]
name = "globex.my.erp.net"
base_url = "http://127.0.0.1:8080/globex"
every = "1m"
collector_user = "other-collector"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collect.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, ENV if environ is None else environ)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_defaults_fill_in_and_instances_override(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD), ENV)
    acme, globex = config.instances
    assert acme.base_url == "https://acme.my.erp.net"
    assert acme.every == timedelta(minutes=5) and acme.timeout == timedelta(seconds=30) and not acme.own_every
    assert acme.secret.reveal() == "from-env-secret"
    assert acme.collector_user == "auditor-collector"
    assert globex.base_url == "http://127.0.0.1:8080/globex"
    assert globex.every == timedelta(minutes=1) and globex.own_every
    assert globex.collector_user == "other-collector"
    assert globex.collector_application == "ERP.net auditor collector"


def test_unknown_key_is_named_with_its_line(tmp_path: Path) -> None:
    text = GOOD.replace('every = "1m"', 'evrey = "1m"')
    message = error_of(tmp_path, text)
    line = text.splitlines().index('evrey = "1m"') + 1
    assert message.startswith(f"{tmp_path / 'collect.toml'}:{line}: unknown key 'evrey'")


def test_bad_duration_names_the_line(tmp_path: Path) -> None:
    text = GOOD.replace('timeout = "30s"', 'timeout = "soon"')
    assert error_of(tmp_path, text).endswith(":3: timeout: 'soon' is not a duration; write e.g. 90s, 15m, 1h, 1h30m or 1d")


def test_toml_syntax_error_names_the_line_and_shows_it(tmp_path: Path) -> None:
    text = GOOD.replace('name = "acme.my.erp.net"', 'name = "acme.my.erp.net')
    message = error_of(tmp_path, text)
    assert ":10: not valid TOML" in message and "'name = \"acme.my.erp.net'" in message


def test_duplicate_names_and_bad_names(tmp_path: Path) -> None:
    assert ":13: instance 'ACME.my.erp.net' is named twice" in error_of(
        tmp_path, GOOD.replace('name = "globex.my.erp.net"', 'name = "ACME.my.erp.net"')
    )
    assert "is not a host name" in error_of(tmp_path, GOOD.replace('name = "acme.my.erp.net"', 'name = "../etc"'))
    assert "no instances" in error_of(tmp_path, GOOD.split("[[instances]]")[0])
    assert ":14: base_url 'ftp://x' is not an http(s) URL" in error_of(
        tmp_path, GOOD.replace('"http://127.0.0.1:8080/globex"', '"ftp://x"')
    )


def test_missing_required_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD.replace('collector_user = "auditor-collector"\n', ""))
    assert ":8: collector_user is missing" in message


def test_inline_secret_is_refused_without_echoing_it(tmp_path: Path) -> None:
    text = GOOD.replace('client_secret_env = "SECRET_ENV"', 'client_secret = "hunter2-inline"')
    message = error_of(tmp_path, text)
    assert ":5: a secret written in the configuration (client_secret) is refused" in message
    assert "hunter2" not in message
    # Even when the line does not parse, its text is not shown.
    broken = GOOD.replace('client_secret_env = "SECRET_ENV"', 'client_secret = "hunter2-inline')
    message = error_of(tmp_path, broken)
    assert ":5: not valid TOML" in message and "hunter2" not in message


def test_secret_from_env_must_be_set(tmp_path: Path) -> None:
    message = error_of(tmp_path, GOOD, environ={})
    assert ":5: environment variable SECRET_ENV (client_secret_env) is not set or empty" in message


def test_secret_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("file-secret\n")
    text = GOOD.replace('client_secret_env = "SECRET_ENV"', f'client_secret_file = "{secret}"')
    os.chmod(secret, 0o644)
    message = error_of(tmp_path, text)
    assert ":5: client_secret_file" in message and "open to other users (mode 0644)" in message and "chmod 600" in message
    assert "file-secret" not in message
    os.chmod(secret, 0o600)
    config = load_config(write(tmp_path, text), {})
    assert config.instances[0].secret.reveal() == "file-secret"


def test_relative_secret_file_is_next_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("rel-secret")
    os.chmod(tmp_path / "secret", 0o600)
    text = GOOD.replace('client_secret_env = "SECRET_ENV"', 'client_secret_file = "secret"')
    assert load_config(write(tmp_path, text), {}).instances[1].secret.reveal() == "rel-secret"


def test_instance_secret_overrides_defaults(tmp_path: Path) -> None:
    text = GOOD + 'client_secret_env = "OTHER"\n'
    config = load_config(write(tmp_path, text), {**ENV, "OTHER": "other-secret"})
    assert [i.secret.reveal() for i in config.instances] == ["from-env-secret", "other-secret"]
    message = error_of(tmp_path, GOOD.replace('every = "1m"', 'client_secret_env = "X"\nclient_secret_file = "/x"'))
    assert "not both" in message


def test_secret_never_prints() -> None:
    secret = Secret("abc123")
    assert "abc123" not in repr(secret) and "abc123" not in f"{secret}" and "abc123" not in str([secret])
    assert redact("token abc123 refused", [secret]) == "token *** refused"


def test_unreadable_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the configuration"):
        load_config(tmp_path / "missing.toml")
    (tmp_path / "bin.toml").write_bytes(b"[defaults]\nx = '\xff'\n")
    with pytest.raises(ConfigError, match=r"bin.toml:2: not UTF-8"):
        load_config(tmp_path / "bin.toml")


def test_the_readme_configuration_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Collecting from ERP.net instances", 1)[1]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    secret = tmp_path / "globex-secret"
    secret.write_text("globex")
    os.chmod(secret, 0o600)
    config = load_config(write(tmp_path, example.replace("/etc/auditor/globex-secret", str(secret))), {"AUDITOR_CLIENT_SECRET": "x"})
    acme, globex = config.instances
    assert acme.base_url == "https://acme.my.erp.net" and globex.every == timedelta(minutes=1)
    assert globex.secret.reveal() == "globex" and acme.secret.reveal() == "x"
