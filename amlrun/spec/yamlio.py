"""YAML loading that remembers where every key came from.

Mappings load as :class:`LineDict` and sequences as :class:`LineList`; both carry the
1-based line of the node (``.line``) and of each key or item (``.lines``), so errors and
warnings can name the line. ``version``-like keys keep their raw text (``01`` stays ``01``).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from amlrun.errors import SpecError

try:  # the C parser is several times faster; constructors stay in Python so lines survive
    _Base = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how pyyaml was built
    _Base = yaml.SafeLoader

RAW_TEXT_KEYS = frozenset({"version", "moduleVersion"})
#: how many nodes aliases may add beyond the file's own: a "billion laughs" file is tiny
#: as text but expands to ~10^9 nodes once anything walks it
MAX_ALIAS_NODES = 100_000
#: deeper nesting than any real spec; bounded so the recursive constructor cannot overflow
MAX_DEPTH = 100
MAX_BYTES = 16 * 2**20


class LineDict(dict):
    line: int | None = None
    lines: dict


class LineList(list):
    line: int | None = None
    lines: dict


class _Loader(_Base):
    def construct_document(self, node: yaml.Node) -> object:
        _check_bounds(node, getattr(self, "name", None))
        return super().construct_document(node)


def _check_bounds(root: yaml.Node, file: str | None) -> None:
    """Refuse alias bombs and runaway nesting before anything is built from the node graph.

    Expanded sizes are memoized per node, so the check costs one visit per distinct node
    however often aliases repeat them (a recursive alias is left to the constructor).
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children = _children(node)
        if not done:
            if key in size or key in depth:
                continue
            depth[key] = 0  # in progress: a cycle back here counts as a leaf
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in size)
            continue
        size[key] = 1 + sum(size.get(id(c), 1) for c in children)
        depth[key] = 1 + max((depth.get(id(c), 0) for c in children), default=0)
        mark = node.start_mark.line + 1
        if depth[key] > MAX_DEPTH:
            raise SpecError(
                f"the YAML nests deeper than {MAX_DEPTH} levels",
                file=file,
                line=mark,
                fix="flatten the structure; no Azure ML file nests this deep",
            )
        if size[key] - len(size) > MAX_ALIAS_NODES:
            raise SpecError(
                f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} extra nodes "
                "(an alias bomb?)",
                file=file,
                line=mark,
                fix="write the values out, or reuse fewer nested anchors",
            )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (list, dict)):
            raise SpecError(
                "a mapping key must be a plain value",
                file=getattr(loader, "name", None),
                line=key_node.start_mark.line + 1,
            )
        if (
            key in RAW_TEXT_KEYS
            and isinstance(value_node, yaml.ScalarNode)
            and value_node.value != ""
        ):
            value = value_node.value
        else:
            value = loader.construct_object(value_node, deep=True)
        out[key] = value
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.lines = {i: child.start_mark.line + 1 for i, child in enumerate(node.value)}
    return out


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def loads(text: str, file: str | Path = "<string>") -> object:
    """Parse YAML text; a syntax error becomes a SpecError naming file and line."""
    loader = _Loader(text)
    loader.name = str(file)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or str(exc)
        raise SpecError(
            f"invalid YAML: {problem}",
            file=file,
            line=line,
            fix="check indentation and put a space after every ':' and ',' in flow lists",
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"invalid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()


def load(path: str | Path) -> object:
    from amlrun.spec.reads import record

    path = Path(path)
    record(path)
    try:
        data = _read(path)
        text = data.decode("utf-8-sig")
    except FileNotFoundError:
        raise SpecError("file not found", file=path, fix="check the path") from None
    except UnicodeDecodeError:
        raise SpecError("not a UTF-8 text file", file=path) from None
    except IsADirectoryError:
        raise SpecError("is a folder, not a spec file", file=path) from None
    except OSError as exc:
        raise SpecError(f"cannot read the file: {exc.strerror or exc}", file=path) from None
    return loads(text, path)


def _read(path: Path) -> bytes:
    """The file's bytes; a FIFO or device is refused before it is opened (it would block or
    never end) and a file over MAX_BYTES is refused rather than read into memory."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(path)
    if not stat.S_ISREG(st.st_mode):
        raise SpecError("not a regular file (a FIFO, socket or device)", file=path)
    with open(path, "rb") as f:
        data = f.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise SpecError(
            f"the file is over {MAX_BYTES // 2**20} MB; no spec is this large", file=path
        )
    return data
