"""Plan the missing Celery settings: for each app, the lines to add where it really reads them."""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from celeryfix.edits import apply_edits
from celeryfix.models import Edit, Note, NoteKind
from celeryfix.pysettings.apps import (
    CeleryApp,
    ConfAttribute,
    ConfigKind,
    ConfigRef,
    ConfUpdate,
    scan_apps,
)
from celeryfix.pysettings.environments import bases, sibling_environments
from celeryfix.pysettings.errors import SettingsSyntaxError, TemplatedFile
from celeryfix.pysettings.modules import ModuleResolver, ancestors, folder_of, normalize_root
from celeryfix.pysettings.naming import Naming
from celeryfix.pysettings.placement import (
    ConfEntry,
    Spot,
    conf_attribute_edit,
    conf_update_edits,
    family_spot,
)
from celeryfix.pysettings.present import conf_item, effective, misnamed, mostly_old_names
from celeryfix.pysettings.sources import SourceIndex
from celeryfix.pysettings.timeline import Binding, Insertion, LeafView, Timeline, Value
from celeryfix.pysettings.wanted import WantedSetting


@dataclass(frozen=True)
class SettingsHints:
    """What the rest of the repository says about the Celery apps (compose files, scripts)."""

    app_names: tuple[str, ...] = ()  # -A values: "crm", "config.celery_app", "proj.celery:app"
    settings_modules: tuple[str, ...] = ()  # DJANGO_SETTINGS_MODULE values of the environment
    source_roots: tuple[str, ...] = ()  # repository folders that are on sys.path (working_dir)


@dataclass(frozen=True)
class SettingsPlan:
    edits: tuple[Edit, ...]
    notes: tuple[Note, ...]


def plan_settings(
    python_files: Mapping[str, str], wanted: Sequence[WantedSetting], hints: SettingsHints
) -> SettingsPlan:
    """Edits adding each wanted setting where each Celery app reads it, and notes on the rest.

    `python_files` maps repository-relative posix paths to decoded text. Raises
    SettingsSyntaxError when an app module or a settings module is not valid Python.
    """
    return _Planner(python_files, wanted, hints).plan()


@dataclass(eq=False)
class _Context:
    """One settings module one app reads, and the names it reads there."""

    app: CeleryApp
    config: ConfigRef
    leaf: str
    naming: Naming
    view: LeafView
    bases: set[str]  # the modules the leaf builds on (split settings: base.py)


@dataclass
class _ConfPlan:
    """Settings to add to one app's `app.conf`."""

    app: CeleryApp
    update: ConfUpdate | None
    attribute: ConfAttribute | None
    entries: list[ConfEntry] = field(default_factory=list)


@dataclass(frozen=True)
class _Chosen:
    insertion: Insertion
    spot: Spot
    rule: str
    covered: tuple[_Context, ...]


@dataclass(frozen=True)
class _Move:
    """A line, and the lines after it that keep other environments' values (CF201)."""

    main: _Chosen
    fixes: tuple[_Chosen, ...] = ()
    fixed: tuple[_Context, ...] = ()  # the environments the fixes serve

    @property
    def covered(self) -> tuple[_Context, ...]:
        found = (*self.main.covered, *self.fixed, *(c for f in self.fixes for c in f.covered))
        return tuple(dict.fromkeys(found))


class _Planner:
    def __init__(
        self, files: Mapping[str, str], wanted: Sequence[WantedSetting], hints: SettingsHints
    ) -> None:
        self.index = SourceIndex(files)
        self.wanted = wanted
        self.hints = hints
        self.resolver = ModuleResolver(files, _roots(files, hints))
        self.timeline = Timeline(self.index, self.resolver)
        self.notes: list[Note] = []
        self.contexts: list[_Context] = []
        self.conf_apps: list[CeleryApp] = []  # apps configured only through app.conf
        self.virtual: list[Insertion] = []
        self.chosen: list[_Chosen] = []
        self.conf_plans: dict[int, _ConfPlan] = {}
        self.defaults: dict[str, list[str]] = {}
        self.held: set[int] = set()

    def note(self, path: str, line: int, rule: str, kind: NoteKind, message: str) -> None:
        note = Note(path, line, rule, kind, message)
        if note not in self.notes:
            self.notes.append(note)

    def note_all(self, path: str, line: int, kind: NoteKind, message: str) -> None:
        for setting in self.wanted:
            self.note(path, line, setting.rule, kind, message)

    # -- finding what each app reads ------------------------------------------------------

    def plan(self) -> SettingsPlan:
        if not self.wanted:
            return SettingsPlan((), ())
        scan = scan_apps(self.index, self.resolver)
        for path in scan.templated:
            self.note_all(path, 1, NoteKind.SKIP, "a template (Jinja markup), not Python: skipped")
        self.defaults = scan.settings_module_defaults
        for app in sorted(scan.apps, key=lambda a: (a.path, a.line)):
            self._read_app(app)
        for setting in self.wanted:
            self._plan_setting(setting)
        edits = self._render()
        # Lines for one spot come in rule order (the engine joins same-offset insertions).
        edits.sort(key=lambda e: (e.path, e.start, e.end, e.rule))
        return SettingsPlan(tuple(edits), tuple(sorted(self.notes)))

    def _read_app(self, app: CeleryApp) -> None:
        label = f"Celery app `{app.var}`"
        unknown = [c for c in app.configs if c.kind is ConfigKind.UNKNOWN]
        if app.namespace_unknown:
            unknown_reason = "its namespace is computed at run time"
        elif unknown:
            unknown_reason = f"it is configured from {unknown[0].reason}"
        elif any(update.opaque for update in app.conf_updates):
            unknown_reason = "app.conf.update(...) passes settings not known statically"
        else:
            unknown_reason = ""
        if unknown_reason:
            self.note_all(
                app.path, app.line, NoteKind.SKIP, f"{label}: {unknown_reason}; set it by hand"
            )
            return
        if not app.configs:
            if app.conf_updates or app.conf_attributes:
                self.conf_apps.append(app)
            else:
                message = (
                    f"{label} has no configuration source (config_from_object, config_source,"
                    " conf.update): no place to add settings"
                )
                self.note_all(app.path, app.line, NoteKind.SKIP, message)
            return
        for config in app.configs:
            namespace = config.namespace or app.namespace
            if config.kind is ConfigKind.DJANGO:
                leaves = self._django_leaves(app, config)
            else:
                leaves = self._module_leaves(config)
            for leaf in leaves:
                context = self._add_context(app, config, namespace, leaf)
                if context is not None and config.kind is ConfigKind.DJANGO:
                    self._add_siblings(context, namespace)

    def _django_leaves(self, app: CeleryApp, config: ConfigRef) -> list[str]:
        tried: list[str] = []
        leaves: list[str] = []

        def add(value: str, near: str, *, anywhere: bool) -> None:
            tried.append(value)
            found = self.resolver.resolve(value, near, anywhere=anywhere)
            if found is not None and found not in leaves:
                leaves.append(found)

        for value in app.settings_modules:
            add(value, app.path, anywhere=True)
        if not app.settings_modules:
            for path in self._nearby_defaults(app.path):
                for value in self.defaults[path]:
                    add(value, path, anywhere=False)
        for value in self.hints.settings_modules:
            add(value, app.path, anywhere=False)
        if not leaves:
            if tried:
                names = ", ".join(f"`{value}`" for value in dict.fromkeys(tried))
                reason = f"DJANGO_SETTINGS_MODULE ({names}) is not a module of this repository"
            else:
                reason = (
                    "DJANGO_SETTINGS_MODULE is set nowhere (app module, manage.py, wsgi.py,"
                    " asgi.py, compose environment)"
                )
            message = f"Celery app `{app.var}` reads the Django settings, but {reason}"
            self.note_all(config.path, config.line, NoteKind.SKIP, message)
        return leaves

    def _nearby_defaults(self, app_path: str) -> list[str]:
        """manage.py/wsgi.py/asgi.py files of the app's project (all of them when none is)."""
        above = set(ancestors(app_path))
        near = [path for path in self.defaults if folder_of(path) in above]
        return sorted(near) or sorted(self.defaults)

    def _module_leaves(self, config: ConfigRef) -> list[str]:
        module = config.module or ""
        if module.startswith("."):
            dotted = module.lstrip(".")
            found = self.resolver.resolve_relative(
                config.path, len(module) - len(dotted), dotted or None
            )
        else:
            found = self.resolver.resolve(module, config.path)
        if found is None:
            message = f"configuration module `{module}` is not a file of this repository"
            self.note_all(config.path, config.line, NoteKind.SKIP, message)
            return []
        return [found]

    def _add_context(
        self, app: CeleryApp, config: ConfigRef, namespace: str | None, leaf: str
    ) -> _Context | None:
        try:
            view = self.timeline.run(leaf)
        except TemplatedFile as error:
            message = f"a template (Jinja markup), not Python: {leaf} skipped"
            self.note_all(error.path, 1, NoteKind.SKIP, message)
            return None
        django = config.kind is ConfigKind.DJANGO
        old = not namespace and mostly_old_names(view.namespace)
        naming = Naming.for_source(namespace, django=django, old=old)
        if not naming.readable:
            message = (
                f"namespace {namespace!r} is not upper-case: Django settings hold only"
                " upper-case names, so Celery reads none of them"
            )
            self.note_all(config.path, config.line, NoteKind.SKIP, message)
            return None
        for context in self.contexts:
            if context.app is app and context.leaf == leaf and context.naming == naming:
                return context
        context = _Context(
            app, config, leaf, naming, view, bases(self.timeline, leaf, naming.in_family)
        )
        self.contexts.append(context)
        return context

    def _add_siblings(self, context: _Context, namespace: str | None) -> None:
        """Settings modules of the leaf's package built on its base: environments too.

        `test.py` or `production.py` next to `local.py`, named nowhere the repository shows,
        must see the added line as well, and must not get a value that conflicts with theirs.
        Only a base that holds settings of the family counts: a star-imported constants module
        makes no environment of the modules sharing it.
        """
        shared = {
            path
            for path in context.bases
            if family_spot(self.index.get(path), context.naming).anchor_line is not None
        }
        if not shared:
            return
        known = set(context.view.files) | {c.leaf for c in self.contexts if c.app is context.app}
        for path in sibling_environments(self.index, self.timeline, context.leaf, shared, known):
            try:
                self._add_context(context.app, context.config, namespace, path)
            except SettingsSyntaxError:
                continue  # a module nobody names that imports broken code: not an environment

    # -- planning one setting -------------------------------------------------------------

    def _plan_setting(self, setting: WantedSetting) -> None:
        self.held = set()  # contexts left to the user (advice given): nothing may reach them
        for app in self.conf_apps:
            self._plan_conf(app, setting)
        conf_given: set[int] = set()
        for app in {id(c.app): c.app for c in self.contexts}.values():
            if conf_item(app.conf_items, setting.name, setting.old_name) is not None:
                conf_given.add(id(app))
            elif setting.mirrors and conf_item(
                app.conf_items, setting.mirrors, setting.mirrors_old_name or setting.mirrors
            ):
                # The project's retry value lives in app.conf, which wins: mirror it there.
                self._plan_conf(app, setting)
                conf_given.add(id(app))
        lacking: list[_Context] = []
        for context in self.contexts:
            if id(context.app) in conf_given:
                continue
            namespace = context.view.namespace
            if effective(namespace, context.naming, setting.name, setting.old_name) is not None:
                continue
            wrong = misnamed(namespace, context.naming, setting.name, setting.old_name)
            if wrong is not None:
                self._note_misnamed(context, setting, wrong)
                self.held.add(id(context))  # no line of ours may reach it either
            elif setting.mirrors and self._target(context, setting) is None:
                self._note_uncertain_retry(context, setting)
                self.held.add(id(context))
            else:
                lacking.append(context)
        groups: dict[Naming, list[_Context]] = {}
        for context in lacking:
            groups.setdefault(context.naming, []).append(context)
        for naming, group in groups.items():
            self._plan_group(setting, naming, group, conf_given)

    def _plan_group(
        self,
        setting: WantedSetting,
        naming: Naming,
        lacking: list[_Context],
        conf_given: set[int],
    ) -> None:
        while lacking:
            best: _Move | None = None
            best_score: tuple[bool, int, bool, int] = (False, 0, False, 0)
            candidates = sorted({f for c in lacking for f in c.view.files})
            for path in candidates:
                move = self._try(path, setting, naming, lacking, conf_given)
                if move is None:
                    continue
                main = move.main
                depth = min(c.view.files[path] for c in main.covered)
                base = all(path in c.bases for c in main.covered)
                # Where the Celery block lives first, then the module most environments share:
                # the shared base of split settings over an environment's own small section.
                score = (main.spot.anchor_line is not None, len(move.covered), base, -depth)
                if best is None or score > best_score:
                    best, best_score = move, score
            if best is None:
                break
            for chosen in (best.main, *best.fixes):
                self.chosen.append(chosen)
                self.virtual.append(chosen.insertion)
                self._note_unknown_imports(chosen, setting)
            self._refresh_views()
            lacking = [c for c in lacking if c not in best.covered]
        for context in lacking:
            message = (
                f"no place found where `{naming.insert_name(setting.name, setting.old_name)}`"
                f" reaches {context.leaf} without overriding a value the project sets"
            )
            self.note(context.leaf, 1, setting.rule, NoteKind.SKIP, message)

    def _try(
        self,
        path: str,
        setting: WantedSetting,
        naming: Naming,
        lacking: list[_Context],
        conf_given: set[int],
        *,
        fixes_allowed: bool = True,
    ) -> _Move | None:
        spot = family_spot(self.index.get(path), naming)
        name = naming.insert_name(setting.name, setting.old_name)
        for text in self._texts(path, setting, naming, lacking):
            insertion = Insertion(path, spot.offset, name, text)
            checked = self._check(insertion, setting, lacking, conf_given)
            if checked is None or not checked[0] or (checked[1] and not fixes_allowed):
                continue
            covered, wronged = checked
            fixes = self._fixes(insertion, wronged, setting, naming, lacking, conf_given)
            if fixes is not None:
                main = _Chosen(insertion, spot, setting.rule, tuple(covered))
                return _Move(main, fixes, tuple(wronged))
        return None

    def _fixes(
        self,
        insertion: Insertion,
        wronged: list[_Context],
        setting: WantedSetting,
        naming: Naming,
        lacking: list[_Context],
        conf_given: set[int],
    ) -> tuple[_Chosen, ...] | None:
        """Lines giving each environment `insertion` reaches with another retry value its own.

        A shared base says `..._ON_STARTUP = True` for every environment; one whose
        broker_connection_retry is False gets `..._ON_STARTUP = False` in its own module, after
        the base's. None when one of them has no such place: then the base is no place either.
        """
        fixes: list[_Chosen] = []
        saved = self.virtual
        self.virtual = [*saved, insertion]
        try:
            # Modules others import first: the line in test.py serves ci.py importing it.
            importers = {c.leaf: sum(c.leaf in o.view.files for o in wronged) for c in wronged}
            for context in sorted(wronged, key=lambda c: -importers[c.leaf]):
                if fixes and self._served(context, setting):
                    continue  # the fix of a module it imports gives it its value already
                move = self._try(
                    context.leaf, setting, naming, [context], conf_given, fixes_allowed=False
                )
                if move is None:
                    return None
                fixes.append(move.main)
                self.virtual.append(move.main.insertion)
            # A fix also reaches the modules importing its own: each still gets its own value.
            planned = {insertion, *(fix.insertion for fix in fixes)}
            for context in lacking if fixes else ():
                reached = any(i.path in context.view.files for i in planned)
                if reached and not self._served(context, setting):
                    return None
        finally:
            self.virtual = saved
        return tuple(fixes)

    def _served(self, context: _Context, setting: WantedSetting) -> bool:
        """Whether the planned lines give `context` the value it needs, on every run."""
        after = self.timeline.run(context.leaf, self.virtual)
        binding = effective(after.namespace, context.naming, setting.name, setting.old_name)
        return (
            binding is not None
            and binding.line == 0
            and binding.certain
            and binding.value == self._target(context, setting)
        )

    def _texts(
        self, path: str, setting: WantedSetting, naming: Naming, lacking: list[_Context]
    ) -> list[str]:
        """Values worth trying at `path`: the literal, or (CF201) the project's retry value.

        For CF201: the value every environment reached agrees on; else the module's own retry
        value (a shared base mirrors its own, environments that differ get theirs after it);
        else a reference to the name of the retry setting.
        """
        if not setting.mirrors:
            return [setting.value]
        reached = [c for c in lacking if path in c.view.files]
        targets = {self._target(c, setting) for c in reached}
        texts: list[str] = []
        literals = {t.literal for t in targets if t is not None}
        if len(targets) == 1 and len(literals) == 1 and None not in literals:
            texts.append(literals.pop() or setting.value)
        own = self._own_retry(path, setting, naming)
        if own is not None and own not in texts:
            texts.append(own)
        for context in reached:
            binding = self._retry(context, setting)
            if binding is not None and binding.name not in texts:
                texts.append(binding.name)
        return texts

    def _own_retry(self, path: str, setting: WantedSetting, naming: Naming) -> str | None:
        """The retry value module `path` holds when run alone: a literal, or its name."""
        assert setting.mirrors is not None
        old_name = setting.mirrors_old_name or setting.mirrors.upper()
        namespace = self.timeline.run(path, self.virtual).namespace
        binding = effective(namespace, naming, setting.mirrors, old_name)
        if binding is None:
            return setting.value
        if not binding.certain:
            return None
        return binding.value.literal or binding.name

    def _check(
        self,
        insertion: Insertion,
        setting: WantedSetting,
        lacking: list[_Context],
        conf_given: set[int],
    ) -> tuple[list[_Context], list[_Context]] | None:
        """The lacking contexts `insertion` serves, and those it gives another retry value.

        None when it would change any other context, or reach a lacking one uncertainly.
        """
        covered: list[_Context] = []
        wronged: list[_Context] = []
        for context in self.contexts:
            if insertion.path not in context.view.files or id(context.app) in conf_given:
                continue
            after = self.timeline.run(context.leaf, [*self.virtual, insertion])
            if insertion in after.broken_insertions:
                return None
            args = (context.naming, setting.name, setting.old_name)
            before_binding = effective(context.view.namespace, *args)
            after_binding = effective(after.namespace, *args)
            if context in lacking:
                if after_binding is None or after_binding.source != insertion.text:
                    return None
                if after_binding.line != 0 or after_binding.path != insertion.path:
                    return None
                if not after_binding.certain:  # a conditionally included or imported file
                    return None
                if setting.mirrors and after_binding.value != self._target(context, setting):
                    if context.leaf == insertion.path:
                        return None
                    wronged.append(context)  # right only if its own module says otherwise
                else:
                    covered.append(context)
            elif before_binding != after_binding and (
                before_binding is not None or id(context) in self.held
            ):
                return None  # it would override a value the project (or a plan) sets
        return covered, wronged

    def _retry(self, context: _Context, setting: WantedSetting) -> Binding | None:
        assert setting.mirrors is not None
        old_name = setting.mirrors_old_name or setting.mirrors.upper()
        return effective(context.view.namespace, context.naming, setting.mirrors, old_name)

    def _target(self, context: _Context, setting: WantedSetting) -> Value | None:
        """The value CF201 must insert for this context: its retry value; None when unsure."""
        binding = self._retry(context, setting)
        if binding is None:
            return Value.default(setting.value)
        return binding.value if binding.certain else None

    def _refresh_views(self) -> None:
        for context in self.contexts:
            context.view = self.timeline.run(context.leaf, self.virtual)

    # -- app.conf -------------------------------------------------------------------------

    def _plan_conf(self, app: CeleryApp, setting: WantedSetting) -> None:
        if conf_item(app.conf_items, setting.name, setting.old_name) is not None:
            return
        value = setting.value
        if setting.mirrors:
            retry = conf_item(
                app.conf_items, setting.mirrors, setting.mirrors_old_name or setting.mirrors
            )
            if retry is not None:
                value = retry.value
        plan = self.conf_plans.get(id(app))
        if plan is None:
            updates = [u for u in app.conf_updates if u.path == app.path]
            update = max(updates, key=lambda u: (u.call.lineno, u.call.col_offset), default=None)
            attribute = app.conf_attributes[-1] if app.conf_attributes else None
            plan = self.conf_plans[id(app)] = _ConfPlan(app, update, attribute)
        plan.entries.append(ConfEntry(setting.name, value, setting.rule))

    # -- notes ----------------------------------------------------------------------------

    def _note_misnamed(self, context: _Context, setting: WantedSetting, wrong: Binding) -> None:
        right = context.naming.insert_name(setting.name, setting.old_name)
        message = (
            f"`{wrong.name}` is set, but with {context.naming.describe()} Celery reads"
            f" `{right}`, not `{wrong.name}`: rename it"
        )
        self.note(wrong.path, wrong.line, setting.rule, NoteKind.ADVICE, message)

    def _note_uncertain_retry(self, context: _Context, setting: WantedSetting) -> None:
        retry = self._retry(context, setting)
        assert retry is not None
        right = context.naming.insert_name(setting.name, setting.old_name)
        message = (
            f"`{retry.name}` is set only conditionally: set `{right}` to the same value by hand"
        )
        self.note(retry.path, retry.line, setting.rule, NoteKind.ADVICE, message)

    def _note_unknown_imports(self, chosen: _Chosen, setting: WantedSetting) -> None:
        for context in chosen.covered:
            for unknown in context.view.unknown_imports:
                if unknown.third_party:
                    message = (
                        f"`from {unknown.module} import *` comes from outside the repository:"
                        f" if it sets `{chosen.insertion.name}`, the added line may override"
                        " its value"
                    )
                    self.note(unknown.path, unknown.line, setting.rule, NoteKind.INFO, message)

    # -- edits ----------------------------------------------------------------------------

    def _render(self) -> list[Edit]:
        edits = self._render_lines()
        for plan in self.conf_plans.values():
            edits.extend(self._render_conf(plan))
        self._verify(edits)
        return edits

    def _render_lines(self) -> list[Edit]:
        if not self.chosen:
            return []
        # libcst takes a fifth of a second to import: only a module that changes needs it.
        from celeryfix.pysettings.layout import ModuleLayout

        edits: list[Edit] = []
        layouts: dict[str, ModuleLayout] = {}
        for chosen in self.chosen:
            insertion = chosen.insertion
            source = self.index.get(insertion.path)
            layout = layouts.get(insertion.path)
            if layout is None:
                layout = layouts[insertion.path] = ModuleLayout(source)
            offset, text = layout.line(chosen.spot, source, insertion.name, insertion.text)
            edits.append(Edit(insertion.path, offset, offset, text, chosen.rule))
        return edits

    def _render_conf(self, plan: _ConfPlan) -> list[Edit]:
        source = self.index.get(plan.app.path)
        if plan.update is not None:
            return conf_update_edits(source, plan.update, plan.entries)
        if plan.attribute is not None:
            return [conf_attribute_edit(source, plan.attribute, entry) for entry in plan.entries]
        for entry in plan.entries:
            message = f"Celery app `{plan.app.var}`: no app.conf statement of its module to extend"
            self.note(plan.app.path, plan.app.line, entry.rule, NoteKind.SKIP, message)
        return []

    def _verify(self, edits: list[Edit]) -> None:
        """Every changed file still parses: a failure here is a bug, never written."""
        for path in sorted({edit.path for edit in edits}):
            text = apply_edits(self.index.get(path).text, [e for e in edits if e.path == path])
            try:
                ast.parse(text)
            except SyntaxError as error:  # pragma: no cover - a bug in the planner
                raise AssertionError(f"{path}: planned edits break the file: {error}") from None


def _roots(files: Mapping[str, str], hints: SettingsHints) -> list[str]:
    """Folders that are on sys.path: manage.py's, the repository, src/, the hinted ones."""
    roots = [folder_of(path) for path in sorted(files) if path.rsplit("/", 1)[-1] == "manage.py"]
    roots += ["", "src", *(normalize_root(root) for root in hints.source_roots)]
    for name in hints.app_names:
        module = name.split(":", 1)[0].strip()
        if not module or not all(part.isidentifier() for part in module.split(".")):
            continue
        stem = module.replace(".", "/")
        for suffix in (f"{stem}.py", f"{stem}/__init__.py"):
            for path in files:
                if path == suffix or path.endswith("/" + suffix):
                    roots.append(path[: -len(suffix)].rstrip("/"))
    return roots
