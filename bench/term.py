"""A minimal pseudo-terminal driver (standard library only) for timing interactive shells.

Unlike pexpect, writing and reading are interleaved in one ``select`` loop, so a large
burst of typed-ahead lines can never dead-lock on full pty buffers, and the time spent in
Python between the shell's output and our clock is a few microseconds per chunk.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time


class TermError(RuntimeError):
    """The shell did not print what we waited for (the tail of its output is attached)."""


class Term:
    """One program running on the slave side of a fresh pty, in its own session."""

    def __init__(
        self, argv: list[str], env: dict[str, str], cwd: str, rows: int = 50, cols: int = 200
    ) -> None:
        """Fork and exec ``argv`` in ``cwd`` with exactly ``env``; echo off, fixed size."""
        self.argv = argv
        self.started = time.perf_counter()
        pid, fd = pty.fork()
        if pid == 0:  # child: the pty slave is stdin/stdout/stderr and controlling tty
            try:
                attrs = termios.tcgetattr(0)
                attrs[3] &= ~termios.ECHO
                termios.tcsetattr(0, termios.TCSANOW, attrs)
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        self.pid = pid
        self.fd = fd
        os.set_blocking(fd, False)
        self.buf = b""  # output received but not consumed by expect() yet
        self.log = bytearray()  # everything received (tail kept), for error messages
        self.exit_status: int | None = None

    # -- I/O ------------------------------------------------------------------------
    def _pump(self, pending: bytes, deadline: float) -> bytes:
        """Write what we can of ``pending`` and read what is there (one select round)."""
        wlist = [self.fd] if pending else []
        timeout = max(0.0, deadline - time.monotonic())
        readable, writable, _ = select.select([self.fd], wlist, [], timeout)
        if writable:
            with contextlib.suppress(BlockingIOError):
                pending = pending[os.write(self.fd, pending) :]
        if readable:
            try:
                chunk = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                chunk = None
            except OSError as exc:  # EIO: the slave side is closed (the shell exited)
                if exc.errno != errno.EIO:
                    raise
                chunk = b""
            if chunk == b"":
                raise TermError(
                    f"{self.argv[0]} exited; output ended with {bytes(self.log[-400:])!r}"
                )
            if chunk:
                self.buf += chunk
                self.log += chunk
                del self.log[:-4096]
        if not readable and not writable and time.monotonic() >= deadline:
            raise TimeoutError
        return pending

    def _until(self, token: bytes, send: bytes, timeout: float, out: bytearray | None) -> float:
        """Send ``send`` (interleaved with reading), then read until ``token`` appears.

        Output before the token goes to ``out`` (if given); the token is consumed.
        Returns the ``perf_counter`` time at which the token was seen.
        """
        deadline = time.monotonic() + timeout
        pending = send
        while True:
            i = self.buf.find(token)
            if i >= 0 and not pending:
                seen = time.perf_counter()
                if out is not None:
                    out += self.buf[:i]
                self.buf = self.buf[i + len(token) :]
                return seen
            if i < 0:  # keep only a tail that may hold the start of the token
                keep = max(len(self.buf) - len(token) + 1, 0)
                if out is not None:
                    out += self.buf[:keep]
                self.buf = self.buf[keep:]
            try:
                pending = self._pump(pending, deadline)
            except TimeoutError:
                raise TermError(
                    f"timed out waiting for {token!r} from {self.argv[0]}; "
                    f"output ended with {bytes(self.log[-400:])!r}"
                ) from None

    def expect(self, token: bytes, send: bytes = b"", timeout: float = 30.0) -> float:
        """Send ``send``, read until ``token``; return when it was seen (perf_counter)."""
        return self._until(token, send, timeout, None)

    def read_until(self, token: bytes, send: bytes = b"", timeout: float = 30.0) -> bytes:
        """Send ``send``, read until ``token``; return the output before it."""
        out = bytearray()
        self._until(token, send, timeout, out)
        return bytes(out)

    def drain(self, quiet: float = 0.05, limit: float = 1.0) -> None:
        """Read and drop output until the program has been quiet for ``quiet`` seconds."""
        end = time.monotonic() + limit
        while time.monotonic() < end:
            readable, _, _ = select.select([self.fd], [], [], quiet)
            if not readable:
                break
            try:
                chunk = os.read(self.fd, 1 << 16)
            except (BlockingIOError, OSError):
                break
            if not chunk:
                break
        self.buf = b""

    # -- life cycle -----------------------------------------------------------------
    def alive(self) -> bool:
        """True while the program has not exited (reaps it when it has)."""
        if self.exit_status is not None:
            return False
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.exit_status = -1
            return False
        if pid == 0:
            return True
        self.exit_status = status
        return False

    def close(self, exit_line: bytes | None = b"exit\n", timeout: float = 2.0) -> None:
        """Ask the program to leave (``exit_line``), then end it by force if it lingers."""
        if exit_line and self.alive():
            with contextlib.suppress(OSError):
                os.write(self.fd, exit_line)
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                select.select([self.fd], [], [], 0.01)
                os.read(self.fd, 1 << 16)
        for sig in (signal.SIGHUP, signal.SIGKILL):
            if not self.alive():
                break
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)
            end = time.monotonic() + 1.0
            while self.alive() and time.monotonic() < end:
                time.sleep(0.01)
        with contextlib.suppress(OSError):
            os.close(self.fd)
