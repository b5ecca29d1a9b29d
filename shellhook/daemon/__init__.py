"""The per-user daemon: its server loop, sessions and file watches, its control (start,
stop, status), and the no-daemon fallback. Importing this package loads nothing: the
fallback and the CLI must not pay for watchdog."""
