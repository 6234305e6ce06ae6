"""Which names a settings module ends up with, and where each came from, found statically.

A settings module is a timeline of top-level statements: assignments bind names, `from x import *`
copies the final names of another module of the repository, and django-split-settings'
`include(...)` runs other files inside the same namespace; a literal `__all__` limits what a star
import copies, as in Python. Replaying that timeline (no code is run) tells which settings a
module holds, which value wins, and what an inserted line would hold and change; planned
insertions are replayed with it, so a plan is checked before it is made.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from celeryfix.pysettings.modules import ModuleResolver, folder_of
from celeryfix.pysettings.sources import PythonSource, SourceIndex


@dataclass(frozen=True)
class Value:
    """What a name holds, as far as a static reader can tell.

    `literal`: a constant (its source, normalized by `repr`); otherwise `origin` identifies the
    statement that computed it, so two names hold the same value when their origins agree.
    """

    literal: str | None = None
    origin: tuple[str, int] | None = None

    @classmethod
    def default(cls, source: str) -> Value:
        return cls(literal=_normalized_literal(source))


@dataclass(frozen=True)
class Binding:
    name: str
    value: Value
    certain: bool  # bound on every path through the module (not only inside an `if`)
    path: str  # the file of the statement that bound it
    line: int
    source: str | None  # the value's Python source, for an assignment


@dataclass(frozen=True)
class Insertion:
    """A planned line `name = text` at `offset` of `path` (text is a literal or a name)."""

    path: str
    offset: int
    name: str
    text: str


@dataclass(frozen=True)
class UnknownImport:
    """`from x import *` of a module outside the repository: names and values unknown."""

    path: str
    line: int
    module: str
    third_party: bool  # False: a module of the repository's own packages that is not there


@dataclass(frozen=True)
class _Bind:
    order: int  # offset of the top-level statement holding it
    name: str
    value: Value
    conditional: bool
    line: int
    source: str | None


@dataclass(frozen=True)
class _Star:
    order: int
    target: str | None
    unknown: UnknownImport | None
    conditional: bool


@dataclass(frozen=True)
class _Include:
    order: int
    files: tuple[str, ...]
    conditional: bool


@dataclass(frozen=True)
class _Exports:
    """`__all__ = [...]` (or `+= [...]`); `names` None when not a literal list of strings."""

    order: int
    names: tuple[str, ...] | None
    extend: bool
    conditional: bool


_Event = _Bind | _Star | _Include | _Exports


@dataclass(frozen=True)
class StarImport:
    """`from <module of the repository> import *`, run on every run of the importing file."""

    order: int  # offset of the top-level statement holding it
    target: str


@dataclass
class _Module:
    """A module's namespace while it is replayed, and what `from it import *` copies."""

    names: dict[str, Binding] = field(default_factory=dict)
    exports: tuple[str, ...] | None = None  # its `__all__`, when a literal
    exports_unknown: bool = False  # `__all__` computed or set conditionally

    def exported(self) -> tuple[list[str], bool]:
        """The names a star import copies, and whether each may be left out (unknown)."""
        if self.exports is not None and not self.exports_unknown:
            return [name for name in self.exports if name in self.names], False
        return [name for name in self.names if not name.startswith("_")], self.exports_unknown

    def set_exports(self, event: _Exports, conditional: bool) -> None:
        if event.names is None or conditional or (event.extend and self.exports is None):
            self.exports_unknown = True
        elif event.extend:
            self.exports = (*(self.exports or ()), *event.names)
        else:
            self.exports, self.exports_unknown = event.names, False


@dataclass
class LeafView:
    """A settings module after its whole timeline: final names, and the files that made them."""

    namespace: dict[str, Binding]
    files: dict[str, int] = field(default_factory=dict)  # file -> import depth from the leaf
    unknown_imports: list[UnknownImport] = field(default_factory=list)
    broken_insertions: list[Insertion] = field(default_factory=list)  # names not bound there


def _normalized_literal(source: str) -> str | None:
    try:
        value = ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if isinstance(value, bool | int | float | str | bytes | type(None)):
        return repr(value)
    return None


class Timeline:
    """Replays settings modules of one repository; events of each file are read once."""

    def __init__(self, index: SourceIndex, resolver: ModuleResolver) -> None:
        self._index = index
        self._resolver = resolver
        self._events: dict[str, list[_Event]] = {}

    def events(self, path: str) -> list[_Event]:
        """The top-level timeline of one file (raises for invalid Python or a template)."""
        if path not in self._events:
            source = self._index.get(path)
            self._events[path] = list(_FileReader(source, self._resolver).read(source.tree))
        return self._events[path]

    def run(self, leaf: str, insertions: Sequence[Insertion] = ()) -> LeafView:
        """The final names of module `leaf`, with `insertions` in place."""
        return _Run(self, insertions).module(leaf)

    def star_imports(self, path: str) -> list[StarImport]:
        """The repository modules `path` star-imports on every run (not in an `if`), in order."""
        return [
            StarImport(event.order, event.target)
            for event in self.events(path)
            if isinstance(event, _Star) and event.target is not None and not event.conditional
        ]

    def first_binding(self, path: str, accept: Callable[[str], bool]) -> int | None:
        """The offset of the first top-level statement of `path` binding a name `accept`s."""
        return next(
            (e.order for e in self.events(path) if isinstance(e, _Bind) and accept(e.name)), None
        )


class _Run:
    """One replay: Python's module cache (a module runs once), and the insertions to apply."""

    def __init__(self, timeline: Timeline, insertions: Sequence[Insertion]) -> None:
        self._timeline = timeline
        self._insertions: dict[str, list[Insertion]] = {}
        for insertion in sorted(insertions, key=lambda i: i.offset):
            self._insertions.setdefault(insertion.path, []).append(insertion)
        self._modules: dict[str, _Module] = {}
        self._view = LeafView({})

    def module(self, path: str) -> LeafView:
        self._view.namespace = self._module(path, 0).names
        return self._view

    def _module(self, path: str, depth: int) -> _Module:
        if path in self._modules:  # done, or a circular import still running: what it has
            return self._modules[path]
        module = self._modules[path] = _Module()
        self._file(path, module, depth, set(), conditional=False)
        return module

    def _file(
        self, path: str, module: _Module, depth: int, included: set[str], *, conditional: bool
    ) -> None:
        view = self._view
        namespace = module.names
        view.files[path] = min(depth, view.files.get(path, depth))
        pending = list(self._insertions.get(path, ()))
        for event in self._timeline.events(path):
            while pending and pending[0].offset <= event.order:
                self._insert(pending.pop(0), namespace, conditional)
            maybe = conditional or event.conditional
            if isinstance(event, _Bind):
                _bind(namespace, event, path, maybe)
            elif isinstance(event, _Exports):
                module.set_exports(event, maybe)
            elif isinstance(event, _Star):
                if event.unknown is not None:
                    if event.unknown not in view.unknown_imports:
                        view.unknown_imports.append(event.unknown)
                elif event.target is not None:
                    star = (path, event.order)
                    source = self._module(event.target, depth + 1)
                    names, unsure = source.exported()
                    for name in names:
                        binding = source.names[name]
                        previous = namespace.get(name)
                        namespace[name] = _copied(binding, previous, maybe or unsure, star)
            else:
                for file in event.files:
                    if file not in included:
                        included.add(file)
                        self._file(file, module, depth + 1, included, conditional=maybe)
        for insertion in pending:
            self._insert(insertion, namespace, conditional)

    def _insert(
        self, insertion: Insertion, namespace: dict[str, Binding], conditional: bool
    ) -> None:
        literal = _normalized_literal(insertion.text)
        if literal is not None:
            value = Value(literal=literal)
        else:
            referenced = namespace.get(insertion.text)
            if referenced is None or not referenced.certain:
                self._view.broken_insertions.append(insertion)
                return
            value = referenced.value
        event = _Bind(insertion.offset, insertion.name, value, False, 0, insertion.text)
        _bind(namespace, event, insertion.path, conditional)


def _bind(namespace: dict[str, Binding], event: _Bind, path: str, conditional: bool) -> None:
    previous = namespace.get(event.name)
    value = event.value
    if conditional and previous is not None and previous.value != value:
        value = Value(origin=(path, event.order))  # one of two values: only the name tells
    certain = not conditional or (previous is not None and previous.certain)
    namespace[event.name] = Binding(event.name, value, certain, path, event.line, event.source)


def _copied(
    binding: Binding, previous: Binding | None, conditional: bool, star: tuple[str, int]
) -> Binding:
    """`binding` as a star import copies it; a conditional import leaves one of two values."""
    if not conditional:
        return binding
    certain = binding.certain and previous is not None and previous.certain
    value = binding.value
    if previous is not None and previous.value != value:
        value = Value(origin=star)
    return Binding(binding.name, value, certain, binding.path, binding.line, binding.source)


def _exports(node: ast.stmt, order: int, conditional: bool) -> _Exports | None:
    """What statement `node` does to `__all__`, if anything."""
    value: ast.expr | None = None
    extend = False
    if isinstance(node, ast.Assign) and any(_is_all(t) for t in node.targets):
        value = node.value if len(node.targets) == 1 else None
    elif isinstance(node, ast.AnnAssign) and _is_all(node.target):
        value = node.value
    elif isinstance(node, ast.AugAssign) and _is_all(node.target):
        value = node.value if isinstance(node.op, ast.Add) else None
        extend = True
    elif not (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
        and _is_all(node.value.func.value)
    ):  # __all__.append(...), __all__.extend(...): not followed
        return None
    names: list[str] | None = None
    if isinstance(value, ast.List | ast.Tuple):
        names = [
            e.value for e in value.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
        if len(names) != len(value.elts):
            names = None
    return _Exports(order, None if names is None else tuple(names), extend, conditional)


def _is_all(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "__all__"


class _FileReader:
    """Turns one file's top-level statements into timeline events."""

    def __init__(self, source: PythonSource, resolver: ModuleResolver) -> None:
        self._source = source
        self._resolver = resolver
        self._include_names: set[str] = set()
        self._optional_names: set[str] = set()

    def read(self, tree: ast.Module) -> Iterator[_Event]:
        for statement in tree.body:
            order = self._source.node_start(statement)
            yield from self._statement(statement, order, conditional=False)

    def _statement(self, node: ast.stmt, order: int, *, conditional: bool) -> Iterator[_Event]:
        exports = _exports(node, order, conditional)
        if exports is not None:
            yield exports
        if isinstance(node, ast.Assign):
            value = self._value(node.value)
            for target in node.targets:
                yield from self._targets(target, order, value, node, conditional)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            yield from self._targets(node.target, order, self._value(node.value), node, conditional)
        elif isinstance(node, ast.AugAssign):
            value = Value(origin=(self._source.path, order))
            yield from self._targets(node.target, order, value, node, conditional, source=False)
        elif isinstance(node, ast.ImportFrom):
            yield from self._import_from(node, order, conditional)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                name = alias.asname or alias.name.split(".")[0]
                yield self._opaque(name, order, node, conditional)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield self._opaque(node.name, order, node, conditional)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            include = self._include(node.value, order, conditional)
            if include is not None:
                yield include
        elif isinstance(node, ast.If | ast.For | ast.While | ast.AsyncFor):
            for child in (*node.body, *node.orelse):
                yield from self._statement(child, order, conditional=True)
        elif isinstance(node, ast.Try):
            for child in (*node.body, *node.finalbody):
                yield from self._statement(child, order, conditional=conditional)
            for child in (*(s for h in node.handlers for s in h.body), *node.orelse):
                yield from self._statement(child, order, conditional=True)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for child in node.body:
                yield from self._statement(child, order, conditional=conditional)
        elif isinstance(node, ast.Match):
            for case in node.cases:
                for child in case.body:
                    yield from self._statement(child, order, conditional=True)

    def _value(self, node: ast.expr) -> Value:
        literal = _normalized_literal(self._source.segment(node))
        if literal is not None:
            return Value(literal=literal)
        return Value(origin=(self._source.path, self._source.node_start(node)))

    def _opaque(self, name: str, order: int, node: ast.stmt, conditional: bool) -> _Bind:
        value = Value(origin=(self._source.path, self._source.node_start(node)))
        return _Bind(order, name, value, conditional, node.lineno, None)

    def _targets(
        self,
        target: ast.expr,
        order: int,
        value: Value,
        statement: ast.Assign | ast.AnnAssign | ast.AugAssign,
        conditional: bool,
        *,
        source: bool = True,
    ) -> Iterator[_Event]:
        text = self._source.segment(statement.value) if source and statement.value else None
        if isinstance(target, ast.Name):
            yield _Bind(order, target.id, value, conditional, statement.lineno, text)
        elif isinstance(target, ast.Tuple | ast.List):
            for element in target.elts:
                element = element.value if isinstance(element, ast.Starred) else element
                opaque = Value(origin=(self._source.path, self._source.node_start(element)))
                yield from self._targets(element, order, opaque, statement, conditional)
        elif (
            isinstance(target, ast.Subscript)
            and isinstance(target.value, ast.Call)
            and isinstance(target.value.func, ast.Name)
            and target.value.func.id in ("globals", "locals", "vars")
            and isinstance(target.slice, ast.Constant)
            and isinstance(target.slice.value, str)
        ):  # globals()["NAME"] = ...
            yield _Bind(order, target.slice.value, value, conditional, statement.lineno, text)

    def _import_from(self, node: ast.ImportFrom, order: int, conditional: bool) -> Iterator[_Event]:
        if node.module == "split_settings.tools":
            for alias in node.names:
                if alias.name == "include":
                    self._include_names.add(alias.asname or alias.name)
                elif alias.name == "optional":
                    self._optional_names.add(alias.asname or alias.name)
        if not any(alias.name == "*" for alias in node.names):
            for alias in node.names:
                yield self._opaque(alias.asname or alias.name, order, node, conditional)
            return
        path = self._source.path
        dotted = "." * node.level + (node.module or "")
        if node.level:
            target = self._resolver.resolve_relative(path, node.level, node.module)
            third_party = False
        else:
            target = self._resolver.resolve(node.module or "", path)
            third_party = not self._resolver.top_level_known(node.module or "", path)
        unknown = None if target else UnknownImport(path, node.lineno, dotted, third_party)
        yield _Star(order, target, unknown, conditional)

    def _include(self, call: ast.Call, order: int, conditional: bool) -> _Include | None:
        func = call.func
        named = isinstance(func, ast.Name) and func.id in self._include_names
        dotted = (  # split_settings.tools.include(...) / tools.include(...)
            isinstance(func, ast.Attribute)
            and func.attr == "include"
            and self._source.segment(func.value).split(".")[-1] == "tools"
        )
        if not (named or dotted):
            return None
        folder = folder_of(self._source.path)
        files: list[str] = []
        for argument in call.args:
            if (
                isinstance(argument, ast.Call)
                and isinstance(argument.func, ast.Name | ast.Attribute)
                and len(argument.args) == 1
            ):
                argument = argument.args[0]  # optional("local_settings.py")
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                files.extend(self._resolver.glob(folder, argument.value))
        return _Include(order, tuple(dict.fromkeys(files)), conditional)
