"""Discovery: skipped folders, virtualenvs, .gitignore (git itself is the oracle), `exclude`,
symlinks (never followed, never listed) and the file kinds by name."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from celeryfix.discover import discover, is_compose_name, is_dockerfile_name, walk


def tree(root: Path, files: dict[str, str]) -> Path:
    for relpath, content in files.items():
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return root


def listed(root: Path, exclude: tuple[str, ...] = ()) -> list[str]:
    return sorted(walk(root, exclude))


# --- skipped folders -----------------------------------------------------------------------------

SKIPPED = [
    ".git",
    "node_modules",
    "__pycache__",
    "site-packages",
    "build",
    "dist",
    ".tox",
    ".venv",
    "venv",
]


@pytest.mark.parametrize("folder", SKIPPED)
@pytest.mark.parametrize("depth", ["", "backend/"], ids=["top", "nested"])
def test_skipped_folders(tmp_path: Path, folder: str, depth: str) -> None:
    tree(
        tmp_path,
        {
            f"{depth}{folder}/docker-compose.yml": "services: {}\n",
            f"{depth}{folder}/celery.py": "app = 1\n",
            f"{depth}{folder}/deeper/settings.py": "A = 1\n",
            f"{depth}app.py": "x = 1\n",
        },
    )
    assert listed(tmp_path) == [f"{depth}app.py"]


@pytest.mark.parametrize("name", ["env", "py311", ".direnv-python", "whatever"])
def test_a_folder_with_pyvenv_cfg_is_a_virtualenv_whatever_its_name(
    tmp_path: Path, name: str
) -> None:
    tree(
        tmp_path,
        {
            f"{name}/pyvenv.cfg": "home = /usr/bin\n",
            f"{name}/lib/python3.12/site/celery/app.py": "x = 1\n",
            f"{name}/bin/activate": "",
            "settings.py": "A = 1\n",
        },
    )
    assert listed(tmp_path) == ["settings.py"]


def test_a_folder_without_pyvenv_cfg_is_walked(tmp_path: Path) -> None:
    tree(tmp_path, {"env/settings.py": "", "env/cfg/pyvenv.cfg.sample": ""})
    assert listed(tmp_path) == ["env/cfg/pyvenv.cfg.sample", "env/settings.py"]


# --- .gitignore -----------------------------------------------------------------------------------

GITIGNORED = {
    ".gitignore": "*.log\n/top-only.py\nsecret/\ncache/\n*.yml\n!docker-compose*.yml\nlogs\n",
    "app.log": "",
    "top-only.py": "",
    "docker-compose.yml": "",
    "docker-compose.prod.yml": "",
    "other.yml": "",
    "cache": "a file named like a folder pattern stays\n",
    "secret/settings.py": "",
    "logs/worker.py": "",
    "backend/top-only.py": "anchored to the root: this one stays\n",
    "backend/.gitignore": "local_settings.py\n!keep.log\n/anchored.py\n!special.yml\n",
    "backend/keep.log": "re-included by the nested negation\n",
    "backend/other.log": "",
    "backend/special.yml": "",
    "backend/local_settings.py": "",
    "backend/anchored.py": "",
    "backend/crm/anchored.py": "anchored to backend/: this one stays\n",
    "backend/crm/local_settings.py": "",
    "backend/crm/settings.py": "",
    "backend/crm/cache/x.py": "",
    "frontend/local_settings.py": "the nested .gitignore does not reach a sibling\n",
    "frontend/logs": "",
}


def test_gitignore_root_and_nested_with_negation(tmp_path: Path) -> None:
    tree(tmp_path, GITIGNORED)
    assert listed(tmp_path) == [
        ".gitignore",
        "backend/.gitignore",
        "backend/crm/anchored.py",
        "backend/crm/settings.py",
        "backend/keep.log",
        "backend/special.yml",
        "backend/top-only.py",
        "cache",
        "docker-compose.prod.yml",
        "docker-compose.yml",
        "frontend/local_settings.py",
    ]


def git_untracked(root: Path) -> list[str]:
    """What git itself lists as untracked and not ignored."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, env=env)
    out = subprocess.run(
        ["git", "ls-files", "--others", "--exclude-standard", "-z"],
        cwd=root,
        check=True,
        capture_output=True,
        env=env,
    ).stdout.decode()
    return sorted(name for name in out.split("\0") if name)


def test_gitignore_agrees_with_git(tmp_path: Path) -> None:
    tree(tmp_path, GITIGNORED)
    expected = listed(tmp_path)
    assert git_untracked(tmp_path) == expected


def test_gitignore_more_patterns_agree_with_git(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".gitignore": "deploy/*\n!deploy/compose.yml\n**/tmp/**\n*.py[cod]\ndoc/**/*.yml\n"
            "# a comment\n\\#literal.py\nspace\\ name.py\n!kept.py\n",
            "deploy/compose.yml": "",
            "deploy/compose.old.yml": "",
            "deploy/nested/compose.yml": "",
            "a/tmp/b/settings.py": "",
            "a/tmp/kept.py": "",
            "a/tmpx/settings.py": "",
            "mod.pyc": "",
            "mod.py": "",
            "doc/x/y/compose.yml": "",
            "doc/compose.yml": "",
            "#literal.py": "",
            "space name.py": "",
            "sub/.gitignore": "*\n!*.py\n!*/\n",
            "sub/a.py": "",
            "sub/a.txt": "",
            "sub/deep/b.py": "",
            "sub/deep/b.txt": "",
        },
    )
    assert git_untracked(tmp_path) == listed(tmp_path)
    assert "deploy/compose.yml" in listed(tmp_path)
    assert "sub/deep/b.py" in listed(tmp_path)
    assert "a/tmp/kept.py" in listed(tmp_path)  # `**/tmp/**` does not exclude the folder tmp/


def test_a_negated_folder_does_not_re_include_what_a_pattern_matches_directly(
    tmp_path: Path,
) -> None:
    tree(
        tmp_path,
        {
            ".gitignore": "*\n!*/\n!*.py\n!.gitignore\n",
            "a.py": "",
            "a.txt": "",
            "deep/b.py": "",
            "deep/b.txt": "",
            "deep/er/c.py": "",
            "sub/.gitignore": "*/\n!/keep/\n!*.py\n",
            "sub/keep/x.py": "",
            "sub/keep/inner/y.py": "excluded: `*/` matches inner/ itself; `!/keep/` does not\n",
            "sub/drop/z.py": "",
        },
    )
    assert listed(tmp_path) == [
        ".gitignore",
        "a.py",
        "deep/b.py",
        "deep/er/c.py",
        "sub/.gitignore",
        "sub/keep/x.py",
    ]
    assert git_untracked(tmp_path) == listed(tmp_path)


ORACLE_TREE = [
    "a.py",
    "a.log",
    "docker-compose.yml",
    "logs/x.log",
    "logs/keep.py",
    "src/app/settings.py",
    "src/app/local.py",
    "src/app/tmp/cache.py",
    "src/logs/y.py",
    "src/a.log",
    "deploy/compose.yml",
    "deploy/old/compose.yml",
    "deploy/x/y/z.yml",
]
ORACLE_LINES = [
    "*.log",
    "!a.log",
    "logs/",
    "logs",
    "/logs",
    "!logs/",
    "*",
    "!*/",
    "*/",
    "!*.py",
    "!*.yml",
    "tmp/",
    "**/tmp/**",
    "deploy/*",
    "!deploy/compose.yml",
    "deploy/**/z.yml",
    "src/app/*.py",
    "!src/app/settings.py",
    "/src",
    "app",
    "!app/",
    "local.py",
    "!.gitignore",
]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    root_lines=st.lists(st.sampled_from(ORACLE_LINES), max_size=6),
    nested_lines=st.lists(st.sampled_from(ORACLE_LINES), max_size=4),
    nested_at=st.sampled_from(["src", "src/app", "deploy", "logs"]),
)
def test_random_gitignores_agree_with_git(
    tmp_path_factory: pytest.TempPathFactory,
    root_lines: list[str],
    nested_lines: list[str],
    nested_at: str,
) -> None:
    root = tmp_path_factory.mktemp("oracle")
    files = dict.fromkeys(ORACLE_TREE, "")
    files[".gitignore"] = "".join(line + "\n" for line in root_lines)
    files[f"{nested_at}/.gitignore"] = "".join(line + "\n" for line in nested_lines)
    tree(root, files)
    assert listed(root) == git_untracked(root)


# --- exclude ------------------------------------------------------------------------------------


def test_exclude_globs(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "deploy/legacy/docker-compose.yml": "",
            "deploy/legacy/old/compose.yml": "",
            "deploy/compose.yml": "",
            "fixtures/docker-compose.yml": "",
            "backend/fixtures/settings.py": "a name without a slash matches at any depth\n",
            "backend/migrations/0001_initial.py": "",
            "migrations/0001_initial.py": "",
            "backend/docker-compose.bak.yml": "",
            "docker-compose.yml": "",
        },
    )
    exclude = ("deploy/legacy/*", "fixtures", "**/migrations", "*.bak.yml")
    assert listed(tmp_path, exclude) == ["deploy/compose.yml", "docker-compose.yml"]


def test_exclude_a_folder_with_a_trailing_slash_and_a_single_file(tmp_path: Path) -> None:
    tree(tmp_path, {"a/b/c.py": "", "a/d.py": "", "e.py": ""})
    assert listed(tmp_path, ("a/b/",)) == ["a/d.py", "e.py"]
    assert listed(tmp_path, ("a/d.py",)) == ["a/b/c.py", "e.py"]


# --- symlinks -------------------------------------------------------------------------------------


def test_directory_symlinks_are_never_followed(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"docker-compose.yml": "", "settings.py": ""})
    root = tree(tmp_path / "repo", {"backend/settings.py": "", "docker-compose.yml": ""})
    (root / "ext").symlink_to(outside, target_is_directory=True)
    (root / "backend-link").symlink_to("backend", target_is_directory=True)
    assert listed(root) == ["backend/settings.py", "docker-compose.yml"]


def test_symlink_loops_end(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {"a/settings.py": ""})
    (root / "a" / "loop").symlink_to("..", target_is_directory=True)
    (root / "self").symlink_to(".", target_is_directory=True)
    (root / "x").symlink_to("y")
    (root / "y").symlink_to("x")
    assert listed(root) == ["a/settings.py"]


def test_symlinked_files_are_not_listed(tmp_path: Path) -> None:
    root = tree(tmp_path / "repo", {"deploy/docker-compose.base.yml": "", "settings.py": ""})
    (tmp_path / "outside.py").write_text("")
    (root / "docker-compose.yml").symlink_to("deploy/docker-compose.base.yml")
    (root / "celery.py").symlink_to(tmp_path / "outside.py")
    (root / "dangling.py").symlink_to("nowhere.py")
    files = discover(root)
    assert files.compose == ["deploy/docker-compose.base.yml"]
    assert files.python == ["settings.py"]
    assert files.other == []


# --- file kinds -----------------------------------------------------------------------------------


def test_a_folder_named_like_a_compose_file_is_not_a_compose_file(tmp_path: Path) -> None:
    tree(tmp_path, {"docker-compose.yml/settings.py": "", "compose.yaml/README": ""})
    files = discover(tmp_path)
    assert files.compose == []
    assert files.python == ["docker-compose.yml/settings.py"]
    assert files.other == ["compose.yaml/README"]


def test_discover_sorts_by_kind(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            "docker-compose.yml": "",
            "docker-compose.vds.yml": "",
            "compose.override.yaml": "",
            "backend/Dockerfile": "",
            "backend/worker.Dockerfile": "",
            "backend/manage.py": "",
            "backend/crm/settings.py": "",
            "backend/requirements.txt": "",
            "scripts/start-worker.sh": "",
        },
    )
    files = discover(tmp_path)
    assert files.root == tmp_path
    assert files.compose == [
        "compose.override.yaml",
        "docker-compose.vds.yml",
        "docker-compose.yml",
    ]
    assert files.python == ["backend/manage.py", "backend/crm/settings.py"]
    assert files.dockerfiles == ["backend/Dockerfile", "backend/worker.Dockerfile"]
    assert files.other == ["backend/requirements.txt", "scripts/start-worker.sh"]


def test_walk_order_is_stable_files_first_then_folders(tmp_path: Path) -> None:
    tree(tmp_path, {"b/x.py": "", "a/y.py": "", "z.py": "", "a/b/w.py": "", "a/c.py": ""})
    assert list(walk(tmp_path)) == ["z.py", "a/c.py", "a/y.py", "a/b/w.py", "b/x.py"]


@pytest.mark.parametrize(
    "name",
    [
        "docker-compose.yml",
        "docker-compose.yaml",
        "compose.yml",
        "compose.yaml",
        "docker-compose.vds.yml",
        "docker-compose-prod.yaml",
        "docker-compose.override.yml",
        "compose.dev.yaml",
        "Docker-Compose.YML",
    ],
)
def test_compose_names(name: str) -> None:
    assert is_compose_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "docker-compose.yml.bak",
        "docker-compose.json",
        "mycompose.yml",
        "my-docker-compose.yml",
        "compose.txt",
        "composer.yml",
        "docker-compose",
        "values.yaml",
    ],
)
def test_not_compose_names(name: str) -> None:
    assert not is_compose_name(name)


@pytest.mark.parametrize(
    "name",
    ["Dockerfile", "Dockerfile.prod", "Dockerfile-dev", "app.Dockerfile", "worker.dockerfile"],
)
def test_dockerfile_names(name: str) -> None:
    assert is_dockerfile_name(name)


@pytest.mark.parametrize(
    "name", ["Dockerfiles", "Dockerfile.", "README.md", "dockerfile-notes.txt"]
)
def test_not_dockerfile_names(name: str) -> None:
    assert not is_dockerfile_name(name)


def test_unreadable_folder_is_skipped_not_fatal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(tmp_path, {"ok/settings.py": "", "locked/settings.py": ""})
    real_scandir = os.scandir

    def scandir(path: str | os.PathLike[str]) -> object:
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    assert listed(tmp_path) == ["ok/settings.py"]
