"""Venv names: what workon/mkvenv/rmvenv accept (security.md case 56), and listing."""

from __future__ import annotations

import pytest

from shellhook import venvnames
from shellhook.venvnames import InvalidName, check_name


@pytest.mark.parametrize(
    "name",
    [
        "",
        ".",
        "..",
        "../x",
        "/abs/path",
        "a/b",
        "x/",
        "-p",
        "--help",
        "-",
        ".hidden",
        ".shellhook-mkvenv-1-x",
        "x:y",
        "a\nb",
        "a\0b",
        "\t",
        "a\rb",
        "\x1b]52;c;x\x07",
        "bidi\u202eevil",
        "line\u2028sep",
        "$(touch /tmp/p)",
        "`id`",
        "a b",
        "semi;colon",
        "quo'te",
        'dq"',
        "star*",
        "q?",
        "back\\slash",
        "caf\udce9",
        "x" * 256,
    ],
)
def test_refused(name):
    with pytest.raises(InvalidName) as info:
        check_name(name)
    message = str(info.value)
    assert message.startswith("invalid venv name '")
    assert "\n" not in message and "\x1b" not in message and "\r" not in message


@pytest.mark.parametrize(
    "name",
    [
        "proj",
        "my-env",
        "py3.12",
        "a_b",
        "x+y",
        "user@host",
        "k=v",
        "a,b",
        "café",
        "环境",
        "v" * 255,
        "1",
        "A-Z.0",
    ],
)
def test_accepted(name):
    assert check_name(name) == name


def test_messages_say_why():
    reasons = {
        "": "empty",
        "..": "directory",
        "../x": "'/'",
        "-p": "'-'",
        ".x": "'.'",
        "x:y": "':'",
        "a\nb": "control",
        "a b": "letters, digits",
    }
    for name, reason in reasons.items():
        with pytest.raises(InvalidName, match=reason):
            check_name(name)


def test_list_names_only_venvs_with_valid_names(tmp_path):
    for name in ("beta", "alpha", "a b", ".hidden", "-dash", ".shellhook-mkvenv-9-x"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "not-a-venv").mkdir()
    (tmp_path / "file").write_text("")
    assert venvnames.list_names(str(tmp_path)) == ["alpha", "beta"]


def test_list_names_of_missing_home(tmp_path):
    assert venvnames.list_names(str(tmp_path / "missing")) == []
