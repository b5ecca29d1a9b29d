"""Unit tests: the trust store and verdicts (DESIGN §5)."""

from __future__ import annotations

import grp
import json
import os
import pwd
from pathlib import Path

import pytest

from shellhook import config, trust
from shellhook.resolver import Resolver, Scope


@pytest.fixture
def store(tmp_path: Path) -> trust.TrustStore:
    return trust.TrustStore(tmp_path / "state" / "trust")


def project_with_venv(tmp_path: Path, name: str = "proj") -> Path:
    proj = tmp_path / name
    (proj / ".venv" / "bin").mkdir(parents=True)
    (proj / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    return proj


DEFAULTS = config.Config()


def resolver(tmp_path: Path) -> Resolver:
    return Resolver(scope=Scope(workon_home=str(tmp_path / "workon")))


def verdict(store, tmp_path, proj, cfg=DEFAULTS):
    res = resolver(tmp_path).resolve(str(proj))
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
    res = resolver(tmp_path).resolve(str(proj))
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
    assert v.refused and "writable by others (anyone)" in v.reason
    assert v.reason.endswith(f"(fix: chmod -R g-w,o-w {proj / '.venv'})")


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


# -- umask 002: group-writable is fine in the user's private group -----------------------

ME = pwd.getpwuid(os.geteuid()).pw_name


@pytest.fixture(autouse=True)
def _no_fake_group_left_cached():
    """A group faked by ``fake_accounts`` must not outlive its test in trust's cache
    (test_projects.py, run after this file, would see it)."""
    yield
    trust._group.cache_clear()


def fake_accounts(monkeypatch, gid: int, members: list[str], primary: list[tuple[str, int]]):
    """Make group ``gid`` have ``members`` and be the primary group of ``primary``
    (name, uid) accounts, as /etc/group and /etc/passwd would say."""
    real_getgrgid = grp.getgrgid

    def getgrgid(g):
        if g != gid:
            return real_getgrgid(g)
        return grp.struct_group(("team", "x", gid, members))

    def getpwall():
        return [pwd.struct_passwd((n, "x", u, gid, "", "/", "/bin/sh")) for n, u in primary]

    monkeypatch.setattr(trust.grp, "getgrgid", getgrgid)
    monkeypatch.setattr(trust.pwd, "getpwall", getpwall)
    trust._group.cache_clear()


def group_writable_project(tmp_path: Path) -> Path:
    proj = project_with_venv(tmp_path)
    (proj / ".venv" / "bin" / "pip").write_text("#!/bin/sh\n")
    for path in (proj / ".venv", proj / ".venv" / "bin"):
        os.chmod(path, 0o775)  # what python3 -m venv makes under umask 002
    return proj


def test_group_writable_in_a_private_group_is_fine(tmp_path, store, monkeypatch):
    proj = group_writable_project(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    fake_accounts(monkeypatch, os.stat(proj).st_gid, [], [(ME, os.geteuid())])
    assert verdict(store, tmp_path, proj).trusted
    fake_accounts(monkeypatch, os.stat(proj).st_gid, [ME], [])  # a listed member only
    assert verdict(store, tmp_path, proj).trusted


@pytest.mark.parametrize(
    "members, primary, named",
    [
        (["bob"], [(ME, os.geteuid())], "group team, also bob"),
        ([ME, "bob", "carol"], [], "group team, also bob, carol"),
        ([], [(ME, os.geteuid()), ("dave", 4242)], "group team, also dave"),
        ([], [], "group team, which has no members"),
    ],
)
def test_group_writable_in_a_shared_group_is_refused_naming_it(
    tmp_path, store, monkeypatch, members, primary, named
):
    proj = group_writable_project(tmp_path)
    os.chmod(proj / ".venv", 0o755)  # only bin is group-writable: the fix is the whole venv
    store.allow(str(proj), str(proj / ".venv"), None)
    fake_accounts(monkeypatch, os.stat(proj).st_gid, members, primary)
    v = verdict(store, tmp_path, proj)
    assert v.refused and not v.trusted
    assert f"{proj / '.venv' / 'bin'} is writable by others ({named})" in v.reason
    assert v.reason.endswith(f"(fix: chmod -R g-w,o-w {proj / '.venv'})")


def test_site_packages_and_pyvenv_cfg_are_checked_too(tmp_path, store):
    proj = project_with_venv(tmp_path)
    site = proj / ".venv" / "lib" / "python3.99" / "site-packages"
    site.mkdir(parents=True)
    store.allow(str(proj), str(proj / ".venv"), None)
    os.chmod(site, 0o777)
    assert "site-packages is writable by others" in verdict(store, tmp_path, proj).reason
    os.chmod(site, 0o755)
    os.chmod(proj / ".venv" / "pyvenv.cfg", 0o666)
    assert "pyvenv.cfg is writable by others" in verdict(store, tmp_path, proj).reason


def test_permissions_stamp_changes_with_a_chmod(tmp_path):
    proj = project_with_venv(tmp_path)
    res = resolver(tmp_path).resolve(str(proj))
    before = trust.permissions_stamp(res)
    assert trust.permissions_stamp(res) == before
    os.chmod(proj / ".venv" / "bin", 0o777)
    assert trust.permissions_stamp(res) != before


# -- deny, forget, and what "changed" means ------------------------------------------------


def test_deny_is_a_silent_verdict_and_forget_undoes_it(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.deny(str(proj))
    v = verdict(store, tmp_path, proj)
    assert v.denied and not v.trusted and not v.refused
    os.chmod(proj / ".venv", 0o777)  # denied wins over a refusal: nothing to say
    assert verdict(store, tmp_path, proj).denied
    assert store.forget(str(proj)) == ["deny"]
    assert verdict(store, tmp_path, proj).refused
    assert store.forget(str(proj)) == []


def test_forget_removes_an_allow(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    assert store.forget(str(proj)) == ["allow"]
    assert verdict(store, tmp_path, proj).reason == "not allowed"


def test_changed_since_allowed_only_for_what_was_allowed(tmp_path, store):
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    (proj / ".venv").rename(proj / "venv")  # another venv than the one allowed
    assert verdict(store, tmp_path, proj).reason == "not allowed"
    (proj / "venv").rename(proj / "env")
    (proj / ".venv").write_text("./env\n")  # the allowed path, now a pointer to another
    assert verdict(store, tmp_path, proj).reason == "not allowed"
    res = resolver(tmp_path).resolve(str(proj))
    store.allow(res.project, res.venv, res.pointer)
    (proj / ".venv").write_text(f"{proj / 'env'}\n")  # the same venv, the pointer rewritten
    assert verdict(store, tmp_path, proj).reason == "changed since allowed"


# -- symlinks on the way, and who may own what -------------------------------------------


def test_symlinks_followed_lists_every_link_of_the_chain(tmp_path):
    real = project_with_venv(tmp_path, "real") / ".venv"
    (tmp_path / "hop").symlink_to(real)
    (tmp_path / "dirlink").symlink_to(tmp_path / "real")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").symlink_to("../hop")
    links = [path for path, _uid in trust.symlinks_followed(str(proj / ".venv"))]
    assert links[-2:] == [str(proj / ".venv"), str(tmp_path / "hop")]
    links = [path for path, _uid in trust.symlinks_followed(str(tmp_path / "dirlink/.venv"))]
    assert links[-1] == str(tmp_path / "dirlink")
    loop = tmp_path / "loop"
    loop.symlink_to("loop")
    assert len(trust.symlinks_followed(str(loop))) == trust.MAX_LINKS  # no hang


def test_a_link_owned_by_another_user_is_refused(tmp_path, store, monkeypatch):
    """Another user's link in the chain (here: as seen by a user whose uid is not the
    files' owner) refuses the venv, even one of your $WORKON_HOME."""
    named = tmp_path / "workon" / "tools"
    (named / "bin").mkdir(parents=True)
    (named / "pyvenv.cfg").write_text("")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").symlink_to(named)
    me = os.geteuid()
    assert verdict(store, tmp_path, proj).reason == "in $WORKON_HOME"
    real_lstat = os.lstat

    def lstat(path, *args, **kwargs):
        st = real_lstat(path, *args, **kwargs)
        if os.fspath(path) == str(proj / ".venv"):
            return os.stat_result((st.st_mode, st.st_ino, st.st_dev, 1, 4242, 4242, *st[6:]))
        return st

    monkeypatch.setattr(trust.os, "lstat", lstat)
    v = verdict(store, tmp_path, proj)
    assert v.refused and f"{proj / '.venv'} is a symlink owned by uid 4242" in v.reason
    assert me == os.geteuid()


def test_root_owned_venv_is_acceptable_and_hints_fit_root(tmp_path, monkeypatch):
    proj = project_with_venv(tmp_path)
    venv = str(proj / ".venv")
    assert trust.ownership_problem(venv) is None  # your own
    if os.stat(venv).st_uid == 0:  # root's files, as another user sees them: acceptable
        with monkeypatch.context() as m:
            m.setattr(trust.os, "geteuid", lambda: 4242)
            assert trust.ownership_problem(venv) is None
    monkeypatch.setattr(trust, "acceptable_owner", lambda uid: False)
    problem = trust.ownership_problem(venv)
    assert problem is not None
    if os.geteuid() == 0:  # never told to take a user's files over
        assert "chown" not in problem and "root's own" in problem
    else:
        assert "sudo chown -R $USER" in problem


# -- trust bound to what runs ------------------------------------------------------------


def allowed_project(tmp_path, store) -> Path:
    proj = project_with_venv(tmp_path)
    (proj / ".venv" / "bin" / "python").symlink_to("/usr/bin/python3")
    store.allow(str(proj), str(proj / ".venv"), None)
    assert verdict(store, tmp_path, proj).trusted
    return proj


def test_an_edited_pyvenv_cfg_home_needs_a_new_allow(tmp_path, store):
    proj = allowed_project(tmp_path, store)
    (proj / ".venv" / "pyvenv.cfg").write_text("home = /home/evil/bin\n")
    v = verdict(store, tmp_path, proj)
    assert not v.trusted and v.reason == "changed since allowed (its pyvenv.cfg home changed)"


@pytest.mark.parametrize("name", ["python", "python3"])
def test_a_replaced_python_needs_a_new_allow(tmp_path, store, name):
    proj = allowed_project(tmp_path, store)
    python = proj / ".venv" / "bin" / name
    python.unlink(missing_ok=True)
    python.write_text("#!/bin/sh\ntouch /tmp/pwned\n")
    v = verdict(store, tmp_path, proj)
    assert not v.trusted and v.reason == f"changed since allowed (its bin/{name} changed)"
    store.allow(str(proj), str(proj / ".venv"), None)  # allowed again, as it is now
    assert verdict(store, tmp_path, proj).trusted


def test_a_record_from_before_binding_what_runs_says_so(tmp_path, store):
    proj = allowed_project(tmp_path, store)
    (record,) = (store.root / "allow").iterdir()
    old = json.loads(record.read_bytes())
    del old["runs"]
    record.write_text(json.dumps(old))
    v = verdict(store, tmp_path, proj)
    assert not v.trusted and "allowed by an older shellhook" in v.reason


def test_group_writable_site_packages_in_a_shared_group_is_refused(tmp_path, store, monkeypatch):
    proj = allowed_project(tmp_path, store)
    site = proj / ".venv" / "lib" / "python3.99" / "site-packages"
    site.mkdir(parents=True)
    os.chmod(site, 0o775)
    fake_accounts(monkeypatch, os.stat(site).st_gid, ["bob"], [(ME, os.geteuid())])
    v = verdict(store, tmp_path, proj)
    assert v.refused and f"{site} is writable by others (group team, also bob)" in v.reason


def test_a_world_writable_project_is_refused_with_a_chmod_of_it_alone(tmp_path, store):
    proj = allowed_project(tmp_path, store)
    os.chmod(proj, 0o777)
    v = verdict(store, tmp_path, proj)
    assert v.refused and v.reason.endswith(f"(fix: chmod g-w,o-w {proj})")


def test_a_huge_record_is_one_line_and_read_no_further(tmp_path, store):
    """Case 52: a 1 GiB record (sparse) is refused after reading 64 KiB, quickly."""
    import resource
    import time

    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    (record,) = (store.root / "allow").iterdir()
    with open(record, "r+b") as fh:
        fh.truncate(1 << 30)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    with pytest.raises(trust.TrustStoreError) as err:
        verdict(store, tmp_path, proj)
    assert time.monotonic() - start < 0.1
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 50_000  # KiB
    assert "is corrupt (larger than 65536 bytes); run: shellhook allow" in str(err.value)
    assert "\n" not in str(err.value)
    assert store.records() == []


def test_stale_temp_files_of_killed_saves_are_removed(tmp_path, store):
    """Case 53: a save killed before its rename leaves ``.KEY.json.*.tmp``."""
    store.ensure()
    stale = store.root / "allow" / ".abc.json.x1.tmp"
    fresh = store.root / "allow" / ".abc.json.x2.tmp"  # a save in progress right now
    for path in (stale, fresh):
        path.write_bytes(b"{")
    os.utime(stale, (1, 1))
    store.ensure()  # the daemon's start
    assert not stale.exists() and fresh.exists()
    os.utime(fresh, (1, 1))
    proj = project_with_venv(tmp_path)
    store.allow(str(proj), str(proj / ".venv"), None)
    assert [p.name for p in (store.root / "allow").iterdir()] == [f"{trust._key(str(proj))}.json"]


# -- case 12: exact matching in the trust store ------------------------------------------


def twin_project(tmp_path: Path, name: str) -> Path:
    """A project at ``tmp_path/name`` whose ``.venv`` pointer (``./env``) and venv are
    byte for byte those of every other twin: only the path tells two apart."""
    proj = tmp_path / name
    (proj / "env" / "bin").mkdir(parents=True)
    (proj / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (proj / "env" / "bin" / "python").symlink_to("/usr/bin/python3")
    (proj / ".venv").write_text("./env\n")
    return proj


def allow_as_resolved(store: trust.TrustStore, tmp_path: Path, path: str) -> None:
    """``shellhook allow PATH``'s record: what PATH resolves to, bound to its pointer."""
    res = resolver(tmp_path).resolve(path)
    assert res.found and res.project is not None and res.venv is not None
    store.allow(res.project, res.venv, res.pointer)


@pytest.mark.parametrize(
    "allowed, other",
    [
        ("a.b/p", "aXb/p"),  # '.' as a regex matches any character
        ("aXb/p", "a.b/p"),
        ("home/u/x/tmp/proj", "tmp/proj"),  # the other is a suffix of the allowed path
        ("tmp/proj", "home/u/x/tmp/proj"),  # the allowed path is a suffix of the other
        ("proj", "proj2"),  # a prefix
        ("proj2", "proj"),
        ("proj", "xproj"),
        ("proj", "proj.old"),
        ("proj", "Proj"),  # case
        ("Proj", "proj"),
        ("proj", "proj/sub"),  # a project of its own inside the allowed one
        ("proj/sub", "proj"),
        ("a[b]", "ab"),  # a glob's or a regex's character class
        ("a*", "abc"),
        ("p q", "p"),
    ],
)
def test_allowing_one_near_miss_never_trusts_the_other(tmp_path, store, allowed, other):
    """Case 12: two projects alike in all but a near-miss path (a regex metacharacter,
    a prefix or suffix of the other, another case, one inside the other). Allowing
    one trusts it alone: records are keyed by the exact canonical path, never matched
    as a substring, a pattern or case-insensitively (autoenv's ``grep -q``)."""
    first = twin_project(tmp_path, allowed)
    second = twin_project(tmp_path, other)
    if os.path.samefile(first, second):
        pytest.skip("a case-insensitive file system: one directory")
    allow_as_resolved(store, tmp_path, str(first))
    assert verdict(store, tmp_path, first).trusted
    assert verdict(store, tmp_path, second).reason == "not allowed"
    (record,) = store.records()
    assert record["project"] == str(first)


@pytest.mark.parametrize("spelling", ["{p}/", "{p}//", "{p}/.", "{p}/../p"])
def test_a_trailing_slash_names_the_same_project_and_no_other(tmp_path, store, spelling):
    """Case 12: ``allow`` through ``p/`` (or another spelling of the same directory)
    trusts ``p`` itself, whichever way it is entered, and nothing whose path merely
    starts with ``p/`` or ``p``: neither a project inside it nor ``p2``."""
    proj = twin_project(tmp_path, "p")
    inner = twin_project(tmp_path, "p/inner")
    sibling = twin_project(tmp_path, "p2")
    allow_as_resolved(store, tmp_path, spelling.format(p=proj))
    for entered in (proj, spelling.format(p=proj), f"{proj}/"):
        res = resolver(tmp_path).resolve(str(entered))
        assert store.verdict(res, DEFAULTS, str(tmp_path / "workon")).trusted, entered
    assert verdict(store, tmp_path, inner).reason == "not allowed"
    assert verdict(store, tmp_path, sibling).reason == "not allowed"
    assert [r["project"] for r in store.records()] == [str(proj)]


# -- case 22: a pointer file's mode ------------------------------------------------------

# Case 22's modes with a group or other write bit (0620, 0622, 0666, 0602), and the rest
# of each kind; all readable by their owner, as a pointer must be (no root needed).
OTHER_WRITABLE_POINTER_MODES = [0o602, 0o622, 0o666, 0o606, 0o642, 0o646, 0o626, 0o662, 0o777]
GROUP_WRITABLE_POINTER_MODES = [0o620, 0o624, 0o660, 0o664, 0o670]
SAFE_POINTER_MODES = [0o600, 0o640, 0o644, 0o604, 0o400, 0o444]


def pointer_project(tmp_path: Path, target: str) -> Path:
    """A project whose ``.venv`` pointer file names ``target`` (``../envs/a`` next to it,
    or a venv's name in $WORKON_HOME, ``tools``)."""
    for venv in (tmp_path / "envs" / "a", tmp_path / "workon" / "tools"):
        if not venv.exists():
            (venv / "bin").mkdir(parents=True)
            (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / ".venv").write_text(f"{target}\n")
    return proj


def shared_group(monkeypatch, path: Path) -> str:
    """Make ``path``'s group one with another member besides this user; its name in
    reasons."""
    fake_accounts(monkeypatch, os.stat(path).st_gid, ["bob"], [(ME, os.geteuid())])
    return "group team, also bob"


@pytest.mark.parametrize("target", ["../envs/a", "tools"])
@pytest.mark.parametrize(
    "mode", OTHER_WRITABLE_POINTER_MODES + GROUP_WRITABLE_POINTER_MODES, ids=oct
)
def test_a_pointer_writable_by_others_is_refused_even_when_allowed(
    tmp_path, store, monkeypatch, mode, target
):
    """Case 22: a pointer file another user can write (their venv, next time) is
    refused, allowed or not, under ``trust = "owned"`` too, and when it names a venv in
    $WORKON_HOME (trusted without allow); the reason says who can write it and the
    ``chmod`` that fixes it. Group-writable counts when the group has another member."""
    proj = pointer_project(tmp_path, target)
    pointer = proj / ".venv"
    allow_as_resolved(store, tmp_path, str(proj))
    assert verdict(store, tmp_path, proj).trusted
    os.chmod(pointer, mode)
    who = "anyone" if mode & 0o002 else shared_group(monkeypatch, pointer)
    for cfg in (DEFAULTS, config.Config(trust="owned")):
        v = verdict(store, tmp_path, proj, cfg)
        assert v.refused and not v.trusted, (oct(mode), v)
        assert v.reason == (
            f"refused: {pointer} is writable by others ({who}) (fix: chmod -R g-w,o-w {pointer})"
        )
    os.chmod(pointer, 0o600)
    assert verdict(store, tmp_path, proj).trusted  # the chmod the reason names fixes it


@pytest.mark.parametrize("mode", SAFE_POINTER_MODES + GROUP_WRITABLE_POINTER_MODES, ids=oct)
def test_a_pointer_nobody_else_can_write_is_accepted(tmp_path, store, monkeypatch, mode):
    """Case 22's other half: 0600, 0640, 0644 (and other modes without a write bit for
    others) are accepted; so is a group write bit when the group is the user's private
    group (umask 002, DESIGN §5)."""
    proj = pointer_project(tmp_path, "../envs/a")
    allow_as_resolved(store, tmp_path, str(proj))
    os.chmod(proj / ".venv", mode)
    fake_accounts(monkeypatch, os.stat(proj / ".venv").st_gid, [], [(ME, os.geteuid())])
    assert verdict(store, tmp_path, proj).trusted, oct(mode)


def test_a_root_venv_open_to_others_is_fixed_with_sudo_by_a_user(tmp_path, monkeypatch):
    """Case 24's hints: a root-owned venv made writable by others is refused, and the
    ``chmod`` that fixes it takes ``sudo`` for a user (who cannot change root's files),
    not for root itself."""
    proj = project_with_venv(tmp_path)
    venv = str(proj / ".venv")
    os.chmod(venv, 0o777)
    if os.stat(venv).st_uid != 0:
        pytest.skip("needs files of root's (run as root)")
    assert trust.ownership_problem(venv) == (
        f"{venv} is writable by others (anyone) (fix: chmod -R g-w,o-w {venv})"
    )
    monkeypatch.setattr(trust.os, "geteuid", lambda: 4242)
    assert trust.ownership_problem(venv) == (
        f"{venv} is writable by others (anyone) (fix: sudo chmod -R g-w,o-w {venv})"
    )
    assert trust.ownership_problem(str(proj), recursive=False) is None
