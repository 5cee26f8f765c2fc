from . import hooks, loops, runners  # noqa: F401
