"""The per-shell hook scripts, shipped as package data (see shellhook.adapters)."""
