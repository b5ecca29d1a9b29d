"""The per-shell hook scripts, shipped as the package ``shellhook.shells`` (the link
``shellhook/shells`` names this folder); ``shellhook.adapters`` says which file is whose."""
