"""shellhook: Python virtual environments that follow you around the shell."""

__version__ = "0.1.0"
