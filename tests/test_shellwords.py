"""Shell words with offsets: compose's splitter, sh scripts, shlex strings, against real oracles.

- `split_compose_command` against the real compose loader (`docker-compose config`);
- `parse_script` against dash and bash running the script with a recording function;
- `split_shlex` against `shlex.split`.
"""

from __future__ import annotations

import json
import os
import random
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from celeryfix.shellwords import (
    ShellSyntaxError,
    SimpleCommand,
    Word,
    compose_command_stop,
    parse_script,
    split_compose_command,
    split_shlex,
)

DOCKER_COMPOSE = Path(sys.executable).parent / "docker-compose"


def raw(text: str, words: list[Word] | tuple[Word, ...]) -> list[str]:
    return [text[word.start : word.end] for word in words]


def values(words: list[Word] | tuple[Word, ...]) -> list[str]:
    return [word.value for word in words]


def check_spans(text: str, words: list[Word] | tuple[Word, ...]) -> None:
    """Each value character comes from itself or from a backslash escape inside its word."""
    for word in words:
        assert len(word.chars.spans) == len(word.value)
        for char, (start, end) in zip(word.value, word.chars.spans, strict=True):
            assert word.start <= start < end <= word.end
            assert text[start:end] in (char, "\\" + char), (text, word)
        assert word.chars.anchor == word.start


def mark_ends(text: str, commands: list[SimpleCommand]) -> str:
    """The script with `⁁` where each command's options would be appended."""
    ends = sorted(command.end for command in commands)
    out, last = [], 0
    for end in ends:
        out += [text[last:end], "⁁"]
        last = end
    return "".join([*out, text[last:]])


# --- compose ----------------------------------------------------------------------------------

_REJECTED = re.compile(r"'services\[s(\d+)\]\.command' invalid command line string")


def compose_splits(strings: list[str]) -> list[list[str] | None]:
    """How the real compose loader splits each string command (None: it rejects the file)."""
    results: dict[int, list[str] | None] = {}
    todo = dict(enumerate(strings))
    with tempfile.TemporaryDirectory() as folder:
        env = {"PATH": os.environ.get("PATH", ""), "HOME": folder, "COMPOSE_PROJECT_NAME": "x"}
        for _ in range(2):
            if not todo:
                break
            services = {
                f"s{i}": {"image": "busybox", "command": text.replace("$", "$$")}
                for i, text in todo.items()
            }
            path = Path(folder, "compose.yaml")
            path.write_text(json.dumps({"services": services}), encoding="utf-8")
            done = subprocess.run(
                [str(DOCKER_COMPOSE), "-f", str(path), "config", "--format", "json"],
                cwd=folder, env=env, capture_output=True, text=True, timeout=60,
            )  # fmt: skip
            rejected = {int(number) for number in _REJECTED.findall(done.stderr)}
            if rejected:  # (docker-compose config exits 0 on these errors)
                for number in rejected:
                    results[number] = None
                    del todo[number]
                continue
            assert done.returncode == 0 and done.stdout, done.stderr
            model = json.loads(done.stdout)["services"]
            for number in todo:
                command = model[f"s{number}"].get("command") or []
                results[number] = [word.replace("$$", "$") for word in command]
            todo = {}
    assert not todo
    return [results[number] for number in range(len(strings))]


def ours(text: str) -> list[str] | None:
    try:
        return values(split_compose_command(text))
    except ShellSyntaxError:
        return None


# (command string, [(value, raw word)], where compose stops reading or None)
COMPOSE_CASES: list[tuple[str, list[tuple[str, str]], int | None]] = [
    (
        "celery -A proj worker -l info",
        [
            ("celery", "celery"),
            ("-A", "-A"),
            ("proj", "proj"),
            ("worker", "worker"),
            ("-l", "-l"),
            ("info", "info"),
        ],
        None,
    ),
    ("  celery   worker  ", [("celery", "celery"), ("worker", "worker")], None),
    (
        "celery worker\n  -l info\n",
        [("celery", "celery"), ("worker", "worker"), ("-l", "-l"), ("info", "info")],
        None,
    ),
    ("celery worker && echo hi", [("celery", "celery"), ("worker", "worker")], 14),
    ("celery worker&&echo", [("celery", "celery"), ("worker", "worker")], 13),
    ("celery worker; celery beat", [("celery", "celery"), ("worker", "worker")], 13),
    ("celery worker | tee x", [("celery", "celery"), ("worker", "worker")], 14),
    ("celery worker > log", [("celery", "celery"), ("worker", "worker")], 14),
    ("celery worker 2>&1", [("celery", "celery"), ("worker", "worker")], 14),
    ("celery worker2>&1", [("celery", "celery"), ("worker2", "worker2")], 14),
    ("a 12>x b", [("a", "a")], 2),
    ("a 2-=>x 1a>b", [("a", "a")], 2),
    ("x<y", [("x", "x")], 1),
    (
        'sh -c "celery -A proj worker && celery beat"',
        [
            ("sh", "sh"),
            ("-c", "-c"),
            ("celery -A proj worker && celery beat", '"celery -A proj worker && celery beat"'),
        ],
        None,
    ),
    (
        "sh -c 'exec celery \"$@\"'",
        [("sh", "sh"), ("-c", "-c"), ('exec celery "$@"', "'exec celery \"$@\"'")],
        None,
    ),
    ("a\"b c\"d 'e f'", [("ab cd", 'a"b c"d'), ("e f", "'e f'")], None),
    ("'' \"\" x", [("", "''"), ("", '""'), ("x", "x")], None),
    ('"a\\b" "a\\"b" "a\\\\b"', [("ab", '"a\\b"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"')], None),
    ("'a\\b' a\\ b \\t", [("a\\b", "'a\\b'"), ("a b", "a\\ b"), ("t", "\\t")], None),
    ("$HOME ${X:-y} $$X", [("$HOME", "$HOME"), ("${X:-y}", "${X:-y}"), ("$$X", "$$X")], None),
    ("echo $(date +%s) x", [("echo", "echo"), ("$(date +%s)", "$(date +%s)"), ("x", "x")], None),
    ('echo $(a "b c") z', [("echo", "echo"), ('$(a "b c")', '$(a "b c")'), ("z", "z")], None),
    ('echo `a "b c" d` e', [("echo", "echo"), ("`a b c d`", '`a "b c" d`'), ("e", "e")], None),
    ("a # b", [("a", "a"), ("#", "#"), ("b", "b")], None),
    ("a ) b ) c", [("a", "a"), (") b )", ") b )"), ("c", "c")], None),
    ('é"ü x" ñ', [("éü x", 'é"ü x"'), ("ñ", "ñ")], None),
    ("tab\tsep\r\nx", [("tab", "tab"), ("sep", "sep"), ("x", "x")], None),
    ("", [], None),
]
COMPOSE_REJECTED = ["a (b", "a\\", '"a', "'a", "`a", "$(a", "$(a (b)) c", "a ) b", "$a(b)"]


@pytest.mark.parametrize(("text", "expected", "stop"), COMPOSE_CASES)
def test_compose_words(text: str, expected: list[tuple[str, str]], stop: int | None) -> None:
    words = split_compose_command(text)
    assert list(zip(values(words), raw(text, words), strict=True)) == expected
    assert compose_command_stop(text) == stop
    check_spans(text, words)


def test_compose_escape_maps_to_backslash_and_char() -> None:
    words = split_compose_command('x "a\\"b"')
    assert words[1].chars.spans == ((3, 4), (4, 6), (6, 7))
    assert (words[1].start, words[1].end) == (2, 8)
    assert words[1].chars.parent_offset_after(3) == 7


def test_compose_empty_word_is_anchored_at_its_quotes() -> None:
    (word,) = split_compose_command("  ''")
    assert (word.value, word.start, word.end, word.chars.anchor) == ("", 2, 4, 2)


@pytest.mark.parametrize("text", COMPOSE_REJECTED)
def test_compose_rejects_what_compose_rejects(text: str) -> None:
    with pytest.raises(ShellSyntaxError):
        split_compose_command(text)


_ALPHABET = [*"ab '\"\\$()`;&|<>12\t\n#é=-", "\r\n", " \\\n"]


def _random_commands(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choices(_ALPHABET, k=rng.randint(0, 12))) for _ in range(count)]


@pytest.mark.oracle
def test_compose_splitting_matches_the_compose_loader() -> None:
    strings = [text for text, _, _ in COMPOSE_CASES] + COMPOSE_REJECTED + _random_commands(400, 7)
    assert [ours(text) for text in strings] == compose_splits(strings)


@pytest.mark.oracle
@settings(max_examples=6, deadline=None)
@given(st.lists(st.lists(st.sampled_from(_ALPHABET), max_size=14).map("".join), max_size=60))
def test_compose_splitting_matches_the_compose_loader_generated(strings: list[str]) -> None:
    assert [ours(text) for text in strings] == compose_splits(strings)


# --- scripts ----------------------------------------------------------------------------------

START_SCRIPT = """\
#!/bin/sh
set -e
# exec celery worker  (commented out)
case "$1" in
  worker)
    exec celery -A proj worker -l info "$@"
    ;;
  "beat") exec celery -A proj beat \\
      --loglevel=info >> /var/log/beat.log 2>&1 ;;
  flower|*) exec "$@" ;;
esac
"""

SCRIPT_CASES: list[tuple[str, str, list[list[str]]]] = [
    (
        "start script with case branches",
        START_SCRIPT,
        [
            ["set", "-e"],
            ["exec", "celery", "-A", "proj", "worker", "-l", "info", "$@"],
            ["exec", "celery", "-A", "proj", "beat", "--loglevel=info"],
            ["exec", "$@"],
        ],
    ),
    (
        "continuation lines",
        "celery --app=dojo \\\n  worker \\\n  -l info \\\n",
        [["celery", "--app=dojo", "worker", "-l", "info"]],
    ),
    (
        "and-or lists, background, pipes",
        "python manage.py migrate && celery -A p worker & celery -A p beat | tee x || true",
        [
            ["python", "manage.py", "migrate"],
            ["celery", "-A", "p", "worker"],
            ["celery", "-A", "p", "beat"],
            ["tee", "x"],
            ["true"],
        ],
    ),
    (
        "redirections are not words",
        "celery worker >> /var/log/x 2>&1 </dev/null; >x celery beat 2>err",
        [["celery", "worker"], ["celery", "beat"]],
    ),
    (
        "comments and trailing spaces",
        "celery worker   # the worker\n# celery beat\n  celery beat  \n",
        [["celery", "worker"], ["celery", "beat"]],
    ),
    (
        "quotes and substitutions stay in words",
        'A="$(cat /x)" celery -A "${APP:-proj}" worker -n \'w@%h\' -Q `echo a` "$@"',
        [
            [
                "A=$(cat /x)",
                "celery",
                "-A",
                "${APP:-proj}",
                "worker",
                "-n",
                "w@%h",
                "-Q",
                "`echo a`",
                "$@",
            ]
        ],
    ),
    (
        "if, while, for, groups, functions",
        'if [ -n "$X" ]; then celery worker; elif true; then :; else celery beat; fi\n'
        "while ! celery inspect ping; do sleep 1; done\n"
        "for q in a b; do celery worker -Q $q & done\n"
        "( cd /app && celery beat ) ; { celery flower; } > log\n"
        "start() { exec celery worker; }\nfunction go { celery beat; }\n",
        [
            ["[", "-n", "$X", "]"],
            ["celery", "worker"],
            ["true"],
            [":"],
            ["celery", "beat"],
            ["celery", "inspect", "ping"],
            ["sleep", "1"],
            ["celery", "worker", "-Q", "$q"],
            ["cd", "/app"],
            ["celery", "beat"],
            ["celery", "flower"],
            ["exec", "celery", "worker"],
            ["celery", "beat"],
        ],
    ),
    (
        "heredoc bodies are not commands",
        "cat <<EOF > /x\ncelery worker\nEOF\ncat <<-'END'\n\tcelery beat\n\tEND\ncelery beat\n",
        [["cat"], ["cat"], ["celery", "beat"]],
    ),
    (
        "keywords only count before a command",
        'echo if then fi done; "if" x',
        [["echo", "if", "then", "fi", "done"], ["if", "x"]],
    ),
    (
        "nested case and bash-isms",
        "case $a in (x) case $b in y) celery worker;; esac;; esac; arr=(a b) ; "
        "for ((i=0; i<3; i++)); do celery beat; done; [[ -n $x ]] && diff <(a) >(b)",
        [
            ["celery", "worker"],
            ["arr=(a b)"],
            ["celery", "beat"],
            ["[[", "-n", "$x", "]]"],
            ["diff", "<(a)", ">(b)"],
        ],
    ),
    ("ansi-c quotes", "printf $'a\\tb\\'c\\x41\\101\\0101'", [["printf", "a\tb'cAA\b1"]]),
]


@pytest.mark.parametrize(
    ("script", "expected"), [c[1:] for c in SCRIPT_CASES], ids=[c[0] for c in SCRIPT_CASES]
)
def test_script_commands(script: str, expected: list[list[str]]) -> None:
    commands = parse_script(script, strict=True)
    assert [command.argv for command in commands] == expected
    for command in commands:
        assert command.end == command.words[-1].end


def test_script_ends_are_where_options_go() -> None:
    commands = parse_script(START_SCRIPT)
    assert (
        mark_ends(START_SCRIPT, commands)
        == """\
#!/bin/sh
set -e⁁
# exec celery worker  (commented out)
case "$1" in
  worker)
    exec celery -A proj worker -l info "$@"⁁
    ;;
  "beat") exec celery -A proj beat \\
      --loglevel=info⁁ >> /var/log/beat.log 2>&1 ;;
  flower|*) exec "$@"⁁ ;;
esac
"""
    )
    script = "cd /app && celery --app=dojo \\\n  worker \\\n  -l info & # run\ncelery beat;"
    assert mark_ends(script, parse_script(script)) == (
        "cd /app⁁ && celery --app=dojo \\\n  worker \\\n  -l info⁁ & # run\ncelery beat⁁;"
    )


def test_script_words_map_to_raw_offsets() -> None:
    script = 'exec celery -A \'my proj\' worker -n "w\\"1" --x=a\\ b "$@"'
    (command,) = parse_script(script)
    assert raw(script, command.words) == [
        "exec", "celery", "-A", "'my proj'", "worker", "-n", '"w\\"1"', "--x=a\\ b", '"$@"'
    ]  # fmt: skip
    check_spans(script, command.words)
    assert command.words[6].chars.spans == ((36, 37), (37, 39), (39, 40))
    assert command.end == len(script)


def test_script_word_split_by_continuation_keeps_its_characters_apart() -> None:
    script = "cel\\\nery worker"
    (command,) = parse_script(script)
    assert command.argv == ["celery", "worker"]
    assert command.words[0].chars.spans == ((0, 1), (1, 2), (2, 3), (5, 6), (6, 7), (7, 8))


@pytest.mark.parametrize(
    "script",
    ["celery worker 'unterminated", 'celery "worker', "celery $(worker", "celery `x", "a ${b"],
)
def test_unbalanced_scripts_are_best_effort_or_refused(script: str) -> None:
    commands = parse_script(script)  # never raises
    assert commands[0].argv[0] == "celery" or commands[0].argv[0] == "a"
    assert commands[-1].end == len(script)  # the rest is one word
    with pytest.raises(ShellSyntaxError):
        parse_script(script, strict=True)


def test_odd_input_never_raises() -> None:
    for text in [*_random_commands(2000, 11), "))((", ";;", "esac fi }", "case", "for", "<<"]:
        for command in parse_script(text):
            assert command.words


# A real shell runs the script with each command being `rec`, which records its argv.
_RECORDER = "rec() { printf '%s\\001' \"$#\" \"$@\"; printf '\\002'; }\n"


def shell_argvs(shell: str, script: str) -> list[list[str]]:
    with tempfile.TemporaryDirectory() as folder:  # empty: globs match nothing
        path = Path(folder, "script.sh")
        path.write_text(_RECORDER + script, encoding="utf-8")
        done = subprocess.run(
            [shell, str(path)], cwd=folder, capture_output=True, timeout=10, check=True
        )
    argvs = []
    for record in done.stdout.decode("utf-8").split("\x02")[:-1]:
        count, *args = record.split("\x01")[:-1]
        assert int(count) == len(args)
        argvs.append(["rec", *args])
    return argvs


_WORD_CHARS = list("ab-=/.:@%,") + list(" \t\n'\"\\;&|<>()#*?[]{}~!é")


def _quote(draw: st.DrawFn, word: str) -> str:
    style = draw(st.sampled_from(["plain", "single", "double", "mixed"]))
    if style == "mixed" and len(word) > 1:
        cut = draw(st.integers(1, len(word) - 1))
        return _quote(draw, word[:cut]) + _quote(draw, word[cut:])
    if style == "single":
        return "'" + word.replace("'", "'\\''") + "'"
    if style == "double":
        return '"' + re.sub(r'(["\\$`])', r"\\\1", word) + '"'
    if not word:
        return "''"
    # A backslash-newline is a line continuation, not a newline: quote newlines.
    return "".join(
        c if c.isalnum() or c in "-=/.:@%,é" else "'\n'" if c == "\n" else "\\" + c for c in word
    )


@st.composite
def scripts(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        words = draw(st.lists(st.text(st.sampled_from(_WORD_CHARS), max_size=6), max_size=4))
        command = "rec"
        for word in words:
            command += draw(st.sampled_from([" ", "\t", " \\\n  "])) + _quote(draw, word)
            if draw(st.booleans()) and draw(st.booleans()):
                command += draw(st.sampled_from([" 2>&1", " </dev/null", " 2>/dev/null"]))
        separator = draw(st.sampled_from([";", " && ", "\n", " ;\n", " # note ; x\n"]))
        parts.append(command + separator)
    return "".join(parts) + "rec"  # (a list cannot end with `&&`)


@settings(max_examples=150, deadline=None)
@given(scripts())
def test_script_words_match_dash(script: str) -> None:
    commands = parse_script(script, strict=True)
    assert [command.argv for command in commands] == shell_argvs("dash", script)
    for command in commands:
        check_spans(script, command.words)
        assert script[command.end :].lstrip(" \t")[:1] in ("", ";", "&", "\n", "#", "2", "<")


@pytest.mark.parametrize(
    "script",
    [
        "rec $'a\\tb' $'\\x41\\101\\u00e9\\'' $\"x y\"",
        "if true; then rec a; fi; case x in x) rec b;; esac; for i in 1; do rec i; done",
        "{ rec 'a b'; } 2>&1; ( rec c ); f() { rec d; }; f",
        "rec a # comment ; rec b\nrec c <<EOF\nrec d\nEOF\nrec e",
    ],
)
def test_script_words_match_bash(script: str) -> None:
    recorded = shell_argvs("bash", script)
    found = [c.argv for c in parse_script(script, strict=True) if c.argv[0] in ("rec", "f")]
    if script.endswith("f"):  # the function runs `rec d` when called as `f`
        found = [argv for argv in found if argv != ["f"]]
    assert found == recorded


# --- shlex --------------------------------------------------------------------------------------


@given(st.text(st.sampled_from(list("ab '\"\\\t\n\r#$;é")), max_size=20))
def test_split_shlex_matches_shlex(text: str) -> None:
    try:
        expected: list[str] | None = shlex.split(text)
    except ValueError:
        expected = None
    try:
        words: list[Word] | None = split_shlex(text)
    except ShellSyntaxError:
        words = None
    assert (None if words is None else values(words)) == expected
    if words is not None:
        for word in words:
            for char, (start, end) in zip(word.value, word.chars.spans, strict=True):
                assert text[start:end] in (char, "\\" + char)


def test_split_shlex_offsets() -> None:
    text = "-A proj  worker -l 'info' --x=\"a b\""
    words = split_shlex(text)
    assert values(words) == ["-A", "proj", "worker", "-l", "info", "--x=a b"]
    assert raw(text, words) == ["-A", "proj", "worker", "-l", "'info'", '--x="a b"']
