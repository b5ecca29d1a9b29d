"""Unit tests: the NUL-separated wire format and terminal-safe text."""

from __future__ import annotations

from shellhook import display, protocol


def test_request_round_trip_with_any_bytes():
    req = protocol.Request("7", "/a\nb/caf\udce9", "", "/v", True, "/p q", "~/w h")
    data = protocol.encode_request(req)
    assert protocol.RequestReader().feed(data) == [req]


def test_reader_handles_split_and_garbage():
    req = protocol.Request("1", "/x", "", "", False, "")
    data = protocol.encode_request(req)
    reader = protocol.RequestReader()
    assert reader.feed(b"junk\0" + data[:5]) == []
    bad = b"Q\0not-a-number\0/x" + b"\0" * (protocol.REQUEST_FIELDS - 1)  # right length
    assert reader.feed(data[5:] + bad + data) == [req, req]


def test_reader_limits_memory():
    reader = protocol.RequestReader()
    assert reader.feed(b"x" * (protocol.MAX_REQUEST_BYTES + 1)) == []
    assert reader._buf == b""


def test_reply_frame():
    data = protocol.encode_reply("3", [("A", "/v env"), ("I", "hi")])
    assert protocol.parse_reply(data) == [("R", "3"), ("A", "/v env"), ("I", "hi"), ("E", "")]


def test_terminal_escapes_are_made_visible():
    text = display.for_terminal("a\x1b]52;c;cHduZWQ=\x07b\r\u202e\udcff")
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\u202e" not in text and "\\xff" in text


def test_prompt_label_keeps_only_safe_characters():
    assert display.prompt_label("my-proj_1.2") == "my-proj_1.2"
    assert display.prompt_label("$(x)`y`%~\\!") == "__x__y______"[: len("$(x)`y`%~\\!")]
    assert display.prompt_label("") == "venv"


def test_request_carries_tool_variables():
    env = (("POETRY_VIRTUALENVS_PATH", "/v p"), ("UV_PROJECT_ENVIRONMENT", "x=y"))
    req = protocol.Request("3", "/p", "", "", False, "", "", env)
    data = protocol.encode_request(req)
    reader = protocol.RequestReader()
    assert reader.feed(data[:-1]) == []  # the empty terminator is still missing
    assert reader.feed(data[-1:] + data) == [req, req]


def test_request_ignores_other_variables_and_drops_garbage_tails():
    good = protocol.Request("1", "/p", "", "", False, "")
    other = protocol.encode_request(good)[:-1] + b"LD_PRELOAD=/x.so\0\0"
    garbage = protocol.encode_request(good)[:-1] + b"no-equals-sign\0\0"
    data = other + garbage + protocol.encode_request(good)
    assert protocol.RequestReader().feed(data) == [good, good]
