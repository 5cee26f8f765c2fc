from . import hooks, runners  # noqa: F401
