"""Celery apps of a repository and where each reads its configuration, found with `ast`."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from enum import Enum

from celeryfix.pysettings.errors import SettingsSyntaxError, TemplatedFile
from celeryfix.pysettings.modules import ModuleResolver
from celeryfix.pysettings.sources import PythonSource, SourceIndex

# An assignment whose value is a call of something named ...Celery: the file defines an app.
_APP_ASSIGNMENT = re.compile(
    r"^[ \t]*[A-Za-z_][\w.]*[ \t]*(?::[^=\n]*)?=[ \t]*(?:[\w.]*\.)?\w*Celery\(", re.MULTILINE
)
# Cheap test before parsing: a call of ...Celery, an alias of it, or a subclass.
_MAY_DEFINE_APP = re.compile(r"Celery(?:\s*[()]|\s+as\b)")
_DJANGO_SETTINGS_OBJECTS = ("django.conf:settings", "django.conf.settings")
DSM = "DJANGO_SETTINGS_MODULE"


class ConfigKind(str, Enum):
    DJANGO = "django"  # django.conf:settings: the Django settings module
    MODULE = "module"  # a plain Python module of settings
    UNKNOWN = "unknown"  # an object, an environment variable, a computed name


@dataclass(frozen=True)
class ConfigRef:
    """One `config_from_object(...)` (or `Celery(config_source=...)`) of an app."""

    kind: ConfigKind
    path: str  # the file of the call
    line: int
    namespace: str | None
    module: str | None = None  # MODULE: dotted name, when given as a name
    module_path: str | None = None  # MODULE: the file, when the call names an imported module
    reason: str = ""  # UNKNOWN: what it is


@dataclass(frozen=True)
class ConfItem:
    """A setting given to `app.conf` directly (`conf.update(...)`, `conf.name = ...`)."""

    name: str
    value: str  # its Python source
    line: int


@dataclass(frozen=True)
class ConfUpdate:
    """An `app.conf.update(...)` call: the settings it gives, and how (keywords or a dict)."""

    path: str
    call: ast.Call
    items: tuple[ConfItem, ...]
    opaque: bool  # it also passes settings not known statically (`conf.update(app.config)`)
    dict_literal: ast.Dict | None  # `conf.update({...})`: the dict to extend


@dataclass(frozen=True)
class ConfAttribute:
    """A top-level `app.conf.name = value` statement."""

    path: str
    statement: ast.Assign
    item: ConfItem
    target: str  # its left-hand side source, up to and including `conf`: "app.conf"


@dataclass
class CeleryApp:
    """A `Celery(...)` instance bound to a name, with everything that configures it."""

    path: str
    var: str
    line: int
    namespace: str | None = None
    namespace_unknown: bool = False
    configs: list[ConfigRef] = field(default_factory=list)
    conf_updates: list[ConfUpdate] = field(default_factory=list)
    conf_attributes: list[ConfAttribute] = field(default_factory=list)
    settings_modules: list[str] = field(default_factory=list)  # DJANGO_SETTINGS_MODULE defaults

    @property
    def conf_items(self) -> list[ConfItem]:
        items = [item for update in self.conf_updates for item in update.items]
        return items + [attribute.item for attribute in self.conf_attributes]


@dataclass
class AppScan:
    """What the scan found: apps, files with DJANGO_SETTINGS_MODULE, templated app modules."""

    apps: list[CeleryApp]
    settings_module_defaults: dict[str, list[str]]  # manage.py/wsgi.py/asgi.py -> values
    templated: list[str]


def scan_apps(index: SourceIndex, resolver: ModuleResolver) -> AppScan:
    """Find every Celery app, its configuration calls, and the DJANGO_SETTINGS_MODULE defaults."""
    apps: list[CeleryApp] = []
    templated: list[str] = []
    by_file: dict[str, dict[str, CeleryApp]] = {}
    for path, text in index.paths.items():
        if "Celery" not in text or not _MAY_DEFINE_APP.search(text):
            continue
        source = index.get(path)
        try:
            tree = source.tree
        except (SettingsSyntaxError, TemplatedFile) as error:
            if not _APP_ASSIGNMENT.search(text):
                continue  # not an app module: its syntax is not our business
            if isinstance(error, TemplatedFile):
                templated.append(path)
                continue
            raise
        found = _apps_of_module(source, tree)
        if found:
            by_file[path] = {app.var: app for app in found}
            apps.extend(found)
    for path, text in index.paths.items():
        if "config_from_object" in text and path not in by_file:
            foreign = index.tree_or_none(path)
            if foreign is not None:
                _attach_foreign_configs(index.get(path), foreign, by_file, resolver)
    defaults: dict[str, list[str]] = {}
    for path, text in index.paths.items():
        name = path.rsplit("/", 1)[-1]
        if name in ("manage.py", "wsgi.py", "asgi.py") and DSM in text:
            module = index.tree_or_none(path)
            values = settings_module_defaults(module) if module is not None else []
            if values:
                defaults[path] = values
    return AppScan(apps, defaults, templated)


@dataclass
class _Nodes:
    """The nodes of one module the scan looks at, gathered in a single walk."""

    assignments: list[ast.Assign | ast.AnnAssign] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    method_calls: list[ast.Call] = field(default_factory=list)  # `x.y(...)`


def _collect(tree: ast.Module) -> _Nodes:
    nodes = _Nodes()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign):
            nodes.assignments.append(node)
        elif isinstance(node, ast.ClassDef):
            nodes.classes.append(node)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            nodes.method_calls.append(node)
    return nodes


def settings_module_defaults(tree: ast.Module) -> list[str]:
    """Values given to DJANGO_SETTINGS_MODULE: `os.environ.setdefault(...)` or `[...] = ...`."""
    return _settings_module_defaults(_collect(tree))


def _settings_module_defaults(nodes: _Nodes) -> list[str]:
    values: list[str] = []
    for call in nodes.method_calls:
        assert isinstance(call.func, ast.Attribute)
        if (
            call.func.attr == "setdefault"
            and _is_environ(call.func.value)
            and len(call.args) == 2
            and _string(call.args[0]) == DSM
        ):
            values.append(_string(call.args[1]) or "")
    for assignment in nodes.assignments:
        if (
            isinstance(assignment, ast.Assign)
            and len(assignment.targets) == 1
            and isinstance(assignment.targets[0], ast.Subscript)
            and _is_environ(assignment.targets[0].value)
            and _string(assignment.targets[0].slice) == DSM
        ):
            values.append(_string(assignment.value) or "")
    return [value for value in dict.fromkeys(values) if value]


def _is_environ(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "environ"
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _string(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _celery_class_names(tree: ast.Module, nodes: _Nodes) -> set[str]:
    """Local names that mean the Celery class: `Celery`, its aliases, and subclasses."""
    names = {"Celery"}
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "celery":
            names.update(
                alias.asname or alias.name for alias in statement.names if alias.name == "Celery"
            )
    for node in nodes.classes:
        if any(_is_celery_class(base, names) for base in node.bases):
            names.add(node.name)
    return names


def _is_celery_class(node: ast.expr, names: set[str]) -> bool:
    if isinstance(node, ast.Name):
        return node.id in names
    return isinstance(node, ast.Attribute) and node.attr == "Celery"


def _apps_of_module(source: PythonSource, tree: ast.Module) -> list[CeleryApp]:
    nodes = _collect(tree)
    classes = _celery_class_names(tree, nodes)
    apps: dict[str, CeleryApp] = {}
    for node in nodes.assignments:
        if isinstance(node.value, ast.Call):
            call = node.value
            if not _is_celery_class(call.func, classes):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id not in apps:
                    app = CeleryApp(source.path, target.id, node.lineno)
                    _read_constructor(source, tree, call, app)
                    apps[target.id] = app
    if not apps:
        return []
    defaults = _settings_module_defaults(nodes)
    for app in apps.values():
        app.settings_modules = list(defaults)
    for call in nodes.method_calls:
        receiver = _receiver(call)
        if receiver is not None and receiver in apps:
            _read_config_call(source, tree, call, apps[receiver])
    _read_conf_usage(source, tree, nodes, apps)
    return list(apps.values())


def _receiver(node: ast.AST) -> str | None:
    """`app` in `app.config_from_object(...)` / `app.config_from_envvar(...)`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("config_from_object", "config_from_envvar", "config_from_cmdline")
        and isinstance(node.func.value, ast.Name)
    ):
        return node.func.value.id
    return None


def _read_constructor(
    source: PythonSource, tree: ast.Module, call: ast.Call, app: CeleryApp
) -> None:
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    if "namespace" in keywords:
        namespace = keywords["namespace"]
        if isinstance(namespace, ast.Constant) and (
            namespace.value is None or isinstance(namespace.value, str)
        ):
            app.namespace = namespace.value or None
        else:
            app.namespace_unknown = True
    if "config_source" in keywords:
        app.configs.append(_config_ref(source, tree, keywords["config_source"], None, call))


def _read_config_call(
    source: PythonSource, tree: ast.Module, node: ast.Call, app: CeleryApp
) -> None:
    assert isinstance(node.func, ast.Attribute)  # a call _receiver accepted
    if node.func.attr != "config_from_object":
        variable = _string(node.args[0]) if node.args else None
        reason = f"{node.func.attr}({variable or '...'}): chosen at run time"
        app.configs.append(
            ConfigRef(ConfigKind.UNKNOWN, source.path, node.lineno, None, reason=reason)
        )
        return
    keywords = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
    obj = node.args[0] if node.args else keywords.get("obj")
    namespace_node = node.args[3] if len(node.args) > 3 else keywords.get("namespace")
    if obj is None:
        return
    app.configs.append(_config_ref(source, tree, obj, namespace_node, node))


def _config_ref(
    source: PythonSource,
    tree: ast.Module,
    obj: ast.expr,
    namespace_node: ast.expr | None,
    call: ast.Call,
) -> ConfigRef:
    """What `obj` (the argument of config_from_object) names."""
    path, line = source.path, call.lineno
    namespace: str | None = None
    if namespace_node is not None:
        if isinstance(namespace_node, ast.Constant) and namespace_node.value is None:
            namespace = None
        elif _string(namespace_node) is not None:
            namespace = _string(namespace_node) or None
        else:
            return ConfigRef(
                ConfigKind.UNKNOWN, path, line, None, reason="the namespace is computed at run time"
            )
    text = _string(obj)
    if text is None and isinstance(obj, ast.Name):
        return _config_ref_of_name(source, tree, obj.id, namespace, line)
    if text is None:
        what = source.segment(obj)
        return ConfigRef(ConfigKind.UNKNOWN, path, line, namespace, reason=f"`{what}`")
    if text in _DJANGO_SETTINGS_OBJECTS:
        return ConfigRef(ConfigKind.DJANGO, path, line, namespace)
    if ":" in text:
        return ConfigRef(ConfigKind.UNKNOWN, path, line, namespace, reason=f"object {text!r}")
    return ConfigRef(ConfigKind.MODULE, path, line, namespace, module=text)


def _config_ref_of_name(
    source: PythonSource, tree: ast.Module, name: str, namespace: str | None, line: int
) -> ConfigRef:
    path = source.path
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) != name:
                    continue
                if node.module == "django.conf" and alias.name == "settings":
                    return ConfigRef(ConfigKind.DJANGO, path, line, namespace)
                dotted = ".".join(part for part in (node.module, alias.name) if part)
                if node.level:
                    return ConfigRef(
                        ConfigKind.MODULE,
                        path,
                        line,
                        namespace,
                        module="." * node.level + dotted,
                    )
                return ConfigRef(ConfigKind.MODULE, path, line, namespace, module=dotted)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname == name or (alias.asname is None and alias.name == name):
                    return ConfigRef(ConfigKind.MODULE, path, line, namespace, module=alias.name)
        elif isinstance(node, ast.ClassDef) and node.name == name:
            return ConfigRef(
                ConfigKind.UNKNOWN, path, line, namespace, reason=f"the class `{name}`"
            )
        elif (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
            and _string(node.value) is not None
        ):
            text = _string(node.value) or ""
            if text in _DJANGO_SETTINGS_OBJECTS:
                return ConfigRef(ConfigKind.DJANGO, path, line, namespace)
            if ":" not in text:
                return ConfigRef(ConfigKind.MODULE, path, line, namespace, module=text)
    return ConfigRef(ConfigKind.UNKNOWN, path, line, namespace, reason=f"`{name}`")


def _conf_of(node: ast.expr, apps: dict[str, CeleryApp]) -> CeleryApp | None:
    """The app whose `conf` `node` is (`app.conf`)."""
    if (
        isinstance(node, ast.Attribute)
        and node.attr == "conf"
        and isinstance(node.value, ast.Name)
        and node.value.id in apps
    ):
        return apps[node.value.id]
    return None


def _read_conf_usage(
    source: PythonSource, tree: ast.Module, nodes: _Nodes, apps: dict[str, CeleryApp]
) -> None:
    for call in nodes.method_calls:
        assert isinstance(call.func, ast.Attribute)
        if call.func.attr == "update":
            app = _conf_of(call.func.value, apps)
            if app is not None:
                app.conf_updates.append(_conf_update(source, call))
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Attribute):
                app = _conf_of(target.value, apps)
                if app is not None:
                    item = ConfItem(target.attr, source.segment(statement.value), statement.lineno)
                    prefix = source.segment(target.value)
                    app.conf_attributes.append(ConfAttribute(source.path, statement, item, prefix))


def _conf_update(source: PythonSource, call: ast.Call) -> ConfUpdate:
    items: list[ConfItem] = []
    opaque = False
    dict_literal: ast.Dict | None = None
    for argument in call.args:
        if isinstance(argument, ast.Dict) and dict_literal is None:
            dict_literal = argument
            for key, value in zip(argument.keys, argument.values, strict=True):
                name = _string(key)
                if name is None:
                    opaque = True  # `**other` or a computed key
                else:
                    items.append(ConfItem(name, source.segment(value), value.lineno))
        else:
            opaque = True
    for keyword in call.keywords:
        if keyword.arg is None:
            opaque = True
        else:
            items.append(ConfItem(keyword.arg, source.segment(keyword.value), keyword.lineno))
    return ConfUpdate(source.path, call, tuple(items), opaque, dict_literal)


def _attach_foreign_configs(
    source: PythonSource,
    tree: ast.Module,
    by_file: dict[str, dict[str, CeleryApp]],
    resolver: ModuleResolver,
) -> None:
    """`config_from_object` called on an app imported from another module (AppConfig.ready)."""
    imported: dict[str, CeleryApp] = {}
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            target = resolver.resolve_relative(source.path, node.level, node.module)
        else:
            target = resolver.resolve(node.module or "", source.path)
        apps = by_file.get(target or "")
        if apps:
            for alias in node.names:
                if alias.name in apps:
                    imported[alias.asname or alias.name] = apps[alias.name]
    if not imported:
        return
    nodes = _collect(tree)
    for call in nodes.method_calls:
        receiver = _receiver(call)
        if receiver is not None and receiver in imported:
            _read_config_call(source, tree, call, imported[receiver])
    for app in imported.values():
        for value in _settings_module_defaults(nodes):
            if value not in app.settings_modules:
                app.settings_modules.append(value)
