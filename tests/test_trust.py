"""Unit tests: the trust store and verdicts (DESIGN §5)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shellhook import config, trust
from shellhook.resolver import Resolver


@pytest.fixture
def store(tmp_path: Path) -> trust.TrustStore:
    return trust.TrustStore(tmp_path / "state" / "trust")


def project_with_venv(tmp_path: Path, name: str = "proj") -> Path:
    proj = tmp_path / name
    (proj / ".venv" / "bin").mkdir(parents=True)
    (proj / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return proj


DEFAULTS = config.Config()


def verdict(store, tmp_path, proj, cfg=DEFAULTS):
    res = Resolver(workon_home=tmp_path / "workon").resolve(str(proj))
    return store.verdict(res, cfg, str(tmp_path / "workon"))


def test_untrusted_by_default_then_allowed(tmp_path, store):
    proj = project_with_venv(tmp_path)
    assert verdict(store, tmp_path, proj).reason == "not allowed"
    store.allow(str(proj), str(proj / ".venv"), None)
    assert verdict(store, tmp_path, proj).trusted
    mode = os.stat(store.root / "allow").st_mode & 0o777
    assert mode == 0o700
    for f in (store.root / "allow").iterdir():
        assert f.stat().st_mode & 0o777 == 0o600


def test_deny_beats_allow_and_survives(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    store.deny(str(proj))
    assert verdict(store, tmp_path, proj).reason == "denied"
    assert verdict(store, tmp_path, proj, config.Config(trust="owned")).reason == "denied"


def test_copy_elsewhere_is_not_trusted(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    copy = project_with_venv(tmp_path, "copy")
    assert not verdict(store, tmp_path, copy).trusted


def test_rewritten_pointer_needs_a_new_allow(tmp_path, store):
    for name in ("a", "b"):
        (tmp_path / "workon").mkdir(exist_ok=True)
        v = tmp_path / "envs" / name
        (v / "bin").mkdir(parents=True)
        (v / "pyvenv.cfg").write_text("")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("../envs/a\n")
    res = Resolver(workon_home=tmp_path / "workon").resolve(str(proj))
    store.allow(res.project, res.venv, res.pointer)
    assert verdict(store, tmp_path, proj).trusted
    (proj / ".venv").write_text("../envs/b\n")
    assert verdict(store, tmp_path, proj).reason == "changed since allowed"


def test_workon_home_venvs_are_trusted(tmp_path, store):
    v = tmp_path / "workon" / "tools"
    (v / "bin").mkdir(parents=True)
    (v / "pyvenv.cfg").write_text("")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").write_text("tools")
    assert verdict(store, tmp_path, proj).reason == "in $WORKON_HOME"


def test_writable_by_others_is_refused_even_when_allowed(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    os.chmod(proj / ".venv", 0o777)
    v = verdict(store, tmp_path, proj)
    assert v.refused and "chmod go-w" in v.reason


def test_trust_owned_config(tmp_path, store):
    proj = project_with_venv(tmp_path)
    assert verdict(store, tmp_path, proj, config.Config(trust="owned")).trusted


@pytest.mark.parametrize("garbage", [b"", b"\x00\xff", b"[]", b'{"version": 999}'])
def test_corrupt_record_fails_closed(tmp_path, store, garbage):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    (record,) = (store.root / "allow").iterdir()
    record.write_bytes(garbage)
    with pytest.raises(trust.TrustStoreError, match="shellhook allow"):
        verdict(store, tmp_path, proj)


def test_store_open_to_others_fails_closed(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    os.chmod(store.root, 0o777)
    with pytest.raises(trust.TrustStoreError, match="nothing is trusted"):
        verdict(store, tmp_path, proj)
