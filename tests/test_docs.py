"""docs/protocol.md is the contract: every error code, WebSocket message type and close
code the code can produce must be listed there.

The names are read from the source (the AST, not a hand-kept list), so a new
`ApiError(..., code="x")` or `{"type": "X", ...}` fails this test until the protocol
documents it. Each collector is also checked to find names known to exist, so a
refactor that hides them from the scan cannot make the test pass vacuously.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = (ROOT / "docs" / "protocol.md").read_text()
DESIGN = (ROOT / "docs" / "design.md").read_text()
# Messages that only travel between server processes over pub/sub, never to a client:
# docs/design.md describes them instead.
INTERNAL_TYPES = {"POLL_DELETED", "SESSION_CHANGED", "SESSION_DELETED"}
SOURCES = sorted(
    p for d in ("app", "workers") for p in (ROOT / d).rglob("*.py") if "__pycache__" not in p.parts
)


def _trees() -> Iterator[tuple[Path, ast.AST]]:
    for path in SOURCES:
        yield path, ast.parse(path.read_text(), filename=str(path))


def _const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def error_codes() -> dict[str, Path]:
    """Codes given to errors: `code="x"` arguments, `code = "x"` class attributes,
    `{"code": "x"}` bodies, `error(conn, ref, "x", ...)` replies and the Sanic map."""
    found: dict[str, Path] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            values: list[ast.AST | None] = []
            if isinstance(node, ast.Call):
                values += [kw.value for kw in node.keywords if kw.arg == "code"]
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "error" and len(node.args) >= 3:
                    values.append(node.args[2])
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "code":
                        values.append(node.value)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for t, v in zip(target.elts, node.value.elts, strict=False):
                            if isinstance(t, ast.Name) and t.id == "code":
                                values.append(v)
                    elif isinstance(target, ast.Name) and target.id == "_SANIC_CODES":
                        assert isinstance(node.value, ast.Dict)
                        values += node.value.values
            elif isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values, strict=True):
                    if _const_str(k) == "code":
                        values.append(v)
            for value in values:
                code = _const_str(value)
                # Error codes are snake_case (protocol.md); `code=` also names join codes.
                if code is not None and re.fullmatch(r"[a-z][a-z_]*", code):
                    found.setdefault(code, path)
    return found


def message_types() -> dict[str, Path]:
    """WebSocket message types: `{"type": "X"}` frames built by the server and
    `kind == "X"` dispatches of client messages (upper-case names only)."""
    found: dict[str, Path] = {}
    for path, tree in _trees():
        for node in ast.walk(tree):
            candidates: list[ast.AST | None] = []
            if isinstance(node, ast.Dict):
                candidates += [
                    v
                    for k, v in zip(node.keys, node.values, strict=True)
                    if _const_str(k) == "type"
                ]
            elif (
                isinstance(node, ast.Compare)
                and isinstance(node.left, ast.Name)
                and node.left.id == "kind"
            ):
                candidates += node.comparators
            for value in candidates:
                name = _const_str(value)
                if name is not None and re.fullmatch(r"[A-Z][A-Z_]+", name):
                    found.setdefault(name, path)
    for lua in (ROOT / "app" / "lua").glob("*.lua"):
        for name in re.findall(r'"type":"([A-Z_]+)"', lua.read_text()):
            found.setdefault(name, lua)
    return found


def close_codes() -> dict[int, Path]:
    """Module-level `CLOSE_* = <int>` constants (annotated or not)."""
    found: dict[int, Path] = {}
    for path, tree in _trees():
        assert isinstance(tree, ast.Module)
        for node in tree.body:
            target: ast.AST | None = None
            value: ast.AST | None = None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign):
                target, value = node.target, node.value
            if (
                isinstance(target, ast.Name)
                and target.id.startswith("CLOSE_")
                and isinstance(value, ast.Constant)
                and isinstance(value.value, int)
            ):
                found.setdefault(value.value, path)
    return found


def test_the_collectors_find_what_is_known_to_exist() -> None:
    assert {"already_voted", "bad_message", "not_ready", "method_not_allowed"} <= set(error_codes())
    assert {"JOINED", "RESULTS", "PONG", "VOTE", "JOIN_POLL"} <= set(message_types())
    assert {1001, 1008, 1011, 4401} <= set(close_codes())


def test_every_error_code_is_documented() -> None:
    missing = {
        c: str(p.relative_to(ROOT)) for c, p in error_codes().items() if f"`{c}`" not in PROTOCOL
    }
    assert not missing, f"error codes used in code but missing from docs/protocol.md: {missing}"


def test_every_websocket_message_type_is_documented() -> None:
    missing = {
        t: str(p.relative_to(ROOT))
        for t, p in message_types().items()
        if not re.search(rf'"type":\s*"{t}"', DESIGN if t in INTERNAL_TYPES else PROTOCOL)
    }
    assert not missing, f"WebSocket message types missing from docs/protocol.md: {missing}"


def test_every_close_code_is_documented() -> None:
    missing = {
        c: str(p.relative_to(ROOT)) for c, p in close_codes().items() if f"| {c} |" not in PROTOCOL
    }
    assert not missing, f"close codes used in code but missing from docs/protocol.md: {missing}"


def test_the_readme_links_the_projects_own_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "../shared/" not in readme, "a clone has no ../shared/: link docs/ instead"
    for doc in ("docs/protocol.md", "docs/design.md"):
        assert doc in readme and (ROOT / doc).is_file()
