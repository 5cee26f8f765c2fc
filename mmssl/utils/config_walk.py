"""Visit every dict of a config tree (configs nest dicts and lists of dicts)."""
from typing import Any, Callable


def walk_config(node: Any, fn: Callable[[dict], None]) -> None:
    """Apply ``fn`` to every dict in ``node`` (depth first, parents before children)."""
    if isinstance(node, dict):
        fn(node)
        for value in node.values():
            walk_config(value, fn)
    elif isinstance(node, (list, tuple)):
        for value in node:
            walk_config(value, fn)
