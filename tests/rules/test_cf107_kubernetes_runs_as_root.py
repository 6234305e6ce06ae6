"""CF107 (unsafe): Kubernetes manifests — reported by default, fixed when selected.

Each transformed case is a before/after pair compared byte for byte, then loaded with
ruamel.yaml: the documents are equal once every container's command/args lists are set aside,
and each container's argv (command + args) gains only the options, as Celery's own click parser
reads them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from oracles.compose_loader import celery_argvs
from repo_helpers import check_left_alone, check_noop, check_transformed, reasons
from ruamel.yaml import YAML
from rules.test_cf105_procfile_runs_as_root import check_celery_sees_only_the_flags

from celeryfix.rules.cf107_kubernetes_runs_as_root import RULE

F = "--uid=nobody --gid=nogroup"
S = "--schedule=/tmp/celerybeat-schedule"
SELECT = {"select": ["CF107"]}
PATH = "k8s/celery.yaml"


def deployment(container: str, kind: str = "Deployment", pod: str = "") -> str:
    """A workload whose pod spec holds `pod` lines and one container (indented lines)."""
    return (
        f"apiVersion: apps/v1\nkind: {kind}\nmetadata:\n  name: celery\nspec:\n  template:\n"
        f"    spec:\n{pod}      containers:\n        - name: worker\n{container}"
    )


# (id, before, after)
TRANSFORMED = [
    (
        "flow-command",
        deployment(
            '          image: app:1.0\n          command: ["celery", "-A", "proj", "worker"]\n'
        ),
        deployment(
            '          image: app:1.0\n          command: ["celery", "-A", "proj", "worker", "--uid=nobody", "--gid=nogroup"]\n'
        ),
    ),
    (
        "command-and-block-args",
        deployment(
            "          image: app\n          command: [celery]\n          args:\n            - -A\n            - proj\n            - worker\n          resources: {}\n"
        ),
        deployment(
            "          image: app\n          command: [celery]\n          args:\n            - -A\n            - proj\n            - worker\n            - --uid=nobody\n            - --gid=nogroup\n          resources: {}\n"
        ),
    ),
    (
        "sh-c-script-in-args",
        deployment(
            '          image: app\n          command: ["/bin/sh", "-c"]\n          args: ["python manage.py migrate && celery -A proj worker -l info"]\n'
        ),
        deployment(
            f'          image: app\n          command: ["/bin/sh", "-c"]\n          args: ["python manage.py migrate && celery -A proj worker -l info {F}"]\n'
        ),
    ),
    (
        "literal-block-script",
        deployment(
            "          image: app\n          command:\n            - bash\n            - -c\n            - |\n              set -e\n              exec celery -A proj worker -l info\n"
        ),
        deployment(
            f"          image: app\n          command:\n            - bash\n            - -c\n            - |\n              set -e\n              exec celery -A proj worker -l info {F}\n"
        ),
    ),
    (
        "flow-list-many-lines",
        deployment(
            "          image: app\n          args: [\n            'celery',\n            'worker',\n            '-A', 'proj'\n          ]\n"
        ),
        deployment(
            "          image: app\n          args: [\n            'celery',\n            'worker',\n            '-A', 'proj', '--uid=nobody', '--gid=nogroup'\n          ]\n"
        ),
    ),
    (
        "beat-statefulset",
        deployment(
            "          image: app\n          args: [celery, -A, proj, beat]\n", "StatefulSet"
        ),
        deployment(
            f"          image: app\n          args: [celery, -A, proj, beat, --uid=nobody, --gid=nogroup, {S}]\n",
            "StatefulSet",
        ),
    ),
    (
        "rhel-image-daemonset",
        deployment(
            "          image: registry.access.redhat.com/ubi9/python-311:latest\n          args: [celery, -A, proj, worker]\n",
            "DaemonSet",
        ),
        deployment(
            "          image: registry.access.redhat.com/ubi9/python-311:latest\n          args: [celery, -A, proj, worker, --uid=nobody, --gid=nobody]\n",
            "DaemonSet",
        ),
    ),
    (
        "run-as-non-root-false",
        deployment(
            "          image: app\n          args: [celery, -A, proj, worker]\n",
            pod="      securityContext:\n        runAsNonRoot: false\n",
        ),
        deployment(
            "          image: app\n          args: [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\n",
            pod="      securityContext:\n        runAsNonRoot: false\n",
        ),
    ),
    (
        "container-root-over-pod-user",
        deployment(
            "          image: app\n          securityContext:\n            runAsUser: 0\n          args: [celery, -A, proj, worker]\n",
            pod="      securityContext:\n        runAsUser: 1000\n",
        ),
        deployment(
            "          image: app\n          securityContext:\n            runAsUser: 0\n          args: [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\n",
            pod="      securityContext:\n        runAsUser: 1000\n",
        ),
    ),
    (
        "job",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: drain\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: w\n        image: app\n        command: [celery, -A, proj, worker, --max-tasks-per-child=1]\n",
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: drain\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: w\n        image: app\n        command: [celery, -A, proj, worker, --max-tasks-per-child=1, --uid=nobody, --gid=nogroup]\n",
    ),
    (
        "cronjob",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: w\n              image: app\n              args: [celery, -A, proj, worker, -Q, nightly]\n",
        "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\nspec:\n  schedule: '0 3 * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: w\n              image: app\n              args: [celery, -A, proj, worker, -Q, nightly, --uid=nobody, --gid=nogroup]\n",
    ),
    (
        "pod",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: w\n    image: app\n    args:\n    - celery\n    - worker\n    - -A\n    - proj\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: w\n    image: app\n    args:\n    - celery\n    - worker\n    - -A\n    - proj\n    - --uid=nobody\n    - --gid=nogroup\n",
    ),
    (
        "list-of-items",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: w\n  spec:\n    containers:\n    - name: w\n      image: app\n      command: [celery, -A, proj, worker]\n",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: w\n  spec:\n    containers:\n    - name: w\n      image: app\n      command: [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\n",
    ),
    (
        "multi-document",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: env\ndata:\n  CELERY_BROKER_URL: redis://redis\n---\n"
        + deployment("          image: app\n          args: [celery, -A, proj, worker]\n")
        + "---\n"
        + deployment("          image: app\n          args: [celery, -A, proj, beat]\n")
        + "...\n",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: env\ndata:\n  CELERY_BROKER_URL: redis://redis\n---\n"
        + deployment(
            "          image: app\n          args: [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\n"
        )
        + "---\n"
        + deployment(
            f"          image: app\n          args: [celery, -A, proj, beat, --uid=nobody, --gid=nogroup, {S}]\n"
        )
        + "...\n",
    ),
    (
        "anchor-shared-by-two-root-containers",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: a\n    image: app\n    args: &args [celery, -A, proj, worker]\n  - name: b\n    image: app\n    args: *args\n",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: a\n    image: app\n    args: &args [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\n  - name: b\n    image: app\n    args: *args\n",
    ),
    (
        "crlf",
        "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: w\r\nspec:\r\n  containers:\r\n  - name: w\r\n    image: app\r\n    args:\r\n    - celery\r\n    - worker\r\n    resources: {}\r\n",
        "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: w\r\nspec:\r\n  containers:\r\n  - name: w\r\n    image: app\r\n    args:\r\n    - celery\r\n    - worker\r\n    - --uid=nobody\r\n    - --gid=nogroup\r\n    resources: {}\r\n",
    ),
]


@pytest.mark.parametrize(
    ("before", "after"), [c[1:] for c in TRANSFORMED], ids=[c[0] for c in TRANSFORMED]
)
def test_transformed_when_selected(tmp_path: Path, before: str, after: str) -> None:
    check_transformed(tmp_path, {PATH: before}, {PATH: after}, **SELECT)
    old, new = _load(before), _load(after)
    assert _without_argv(_load(before)) == _without_argv(_load(after))
    check_celery_sees_only_the_flags(_celery_argvs(old), _celery_argvs(new))


def test_second_run_changes_nothing(tmp_path: Path) -> None:
    for index, (_, _, after) in enumerate(TRANSFORMED):
        result = check_noop(tmp_path / str(index), {PATH: after}, **SELECT)
        assert not [n for n in result.notes if n.kind.value == "advice"]


def test_examples(tmp_path: Path) -> None:
    for index, example in enumerate(RULE.examples):
        check_transformed(
            tmp_path / str(index),
            {example.path: example.before},
            {example.path: example.after},
            **SELECT,
        )


# --- not selected: advice, never a change ------------------------------------------------------


def test_reported_by_default_recommending_a_security_context(tmp_path: Path) -> None:
    result = check_noop(tmp_path, {PATH: TRANSFORMED[1][1]})
    advice = [n for n in result.notes if n.rule == "CF107"]
    assert len(advice) == 1 and advice[0].kind.value == "advice"
    assert advice[0].line == 15  # the line of the args list's last item
    message = advice[0].message
    assert message.startswith("container `worker` of Deployment `celery` runs a Celery worker")
    assert "securityContext: {runAsNonRoot: true, runAsUser: <uid>}" in message
    assert f"`celeryfix --select CF107` adds `{F}`" in message


def test_beat_advice_mentions_the_schedule(tmp_path: Path) -> None:
    result = check_noop(tmp_path, {PATH: TRANSFORMED[5][1]})
    assert "beat then also needs a schedule file it can write" in reasons(result)


def test_non_root_container_is_reported_as_left_alone_by_default(tmp_path: Path) -> None:
    text = deployment(
        "          image: app\n          args: [celery, -A, proj, worker]\n",
        pod="      securityContext:\n        runAsNonRoot: true\n",
    )
    result = check_noop(tmp_path, {PATH: text})
    assert [n.kind.value for n in result.notes if n.rule == "CF107"] == ["skip"]
    assert "runAsNonRoot: true in the pod securityContext" in reasons(result)


def test_silent_when_ignored(tmp_path: Path) -> None:
    result = check_noop(tmp_path, {PATH: TRANSFORMED[0][1]}, ignore=["CF107"])
    assert not [n for n in result.notes if n.rule == "CF107"]


# --- left alone, with the reason ---------------------------------------------------------------

# (id, text, a fragment of the reported reason or None when nothing is reported)
LEFT_ALONE = [
    (
        "pod-run-as-user",
        deployment(
            "          image: app\n          args: [celery, -A, proj, worker]\n",
            pod="      securityContext:\n        runAsUser: 1000\n",
        ),
        "runAsUser: 1000 in the pod securityContext",
    ),
    (
        "container-run-as-user",
        deployment(
            "          image: app\n          securityContext: {runAsUser: 65534}\n          args: [celery, -A, proj, worker]\n"
        ),
        "runAsUser: 65534 in the container securityContext",
    ),
    (
        "container-run-as-non-root",
        deployment(
            "          image: app\n          securityContext:\n            runAsNonRoot: true\n          command: [celery, -A, proj, worker]\n"
        ),
        "runAsNonRoot: true in the container securityContext",
    ),
    (
        "already-fixed",
        deployment(f"          image: app\n          args: [celery, -A, proj, worker, {F}]\n"),
        "already sets --uid",
    ),
    (
        "gosu",
        deployment("          image: app\n          args: [gosu, app, celery, -A, proj, worker]\n"),
        "gosu",
    ),
    (
        "flower",
        deployment("          image: app\n          args: [celery, -A, proj, flower]\n"),
        None,
    ),
    (
        "airflow-image",
        deployment("          image: apache/airflow:2.9.0\n          args: [celery, worker]\n"),
        "airflow",
    ),
    (
        "init-container-and-entrypoint-only",
        deployment("          image: app\n          ports: [{containerPort: 5555}]\n")
        + "      initContainers:\n        - name: wait\n          image: busybox\n          command: [sh, -c, 'until nc -z redis 6379; do sleep 1; done']\n",
        None,
    ),
    (
        "anchor-shared-with-a-non-root-container",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: a\n    image: app\n    args: &args [celery, -A, proj, worker]\n  - name: b\n    image: app\n    securityContext: {runAsUser: 1000}\n    args: *args\n",
        "several runners",
    ),
    (
        "helm-template",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}-worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: {{ .Values.image }}\n          args: [celery, -A, proj, worker]\n",
        "template",
    ),
    (
        "invalid-manifest",
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: w\n    args: [celery, worker\n",
        "not valid YAML",
    ),
    (
        "command-as-a-string",
        deployment("          image: app\n          command: celery -A proj worker\n"),
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "reason"), [c[1:] for c in LEFT_ALONE], ids=[c[0] for c in LEFT_ALONE]
)
def test_left_alone_when_selected(tmp_path: Path, text: str, reason: str | None) -> None:
    check_left_alone(tmp_path, {PATH: text}, "CF107", reason, **SELECT)


def test_other_yaml_is_never_reported_nor_an_error(tmp_path: Path) -> None:
    result = check_noop(
        tmp_path,
        {
            ".github/workflows/ci.yml": "name: ci\non: push\njobs:\n  t:\n    steps:\n      - run: celery -A proj worker &\n",
            "broken.yaml": "celery: [worker\nkind: x\n",
            "openapi.yml": "kind: {\n  celery\n",
            "chart/templates/worker.yaml": "kind: Deployment\n{{- if .Values.worker }}\n",
        },
        **SELECT,
    )
    assert not [n for n in result.notes if n.rule == "CF107"]


# --- oracle helpers ------------------------------------------------------------------------------


def _load(text: str) -> list[Any]:
    return [doc for doc in YAML(typ="safe").load_all(text) if doc is not None]


def _pod_specs(document: Any) -> list[dict[str, Any]]:
    if document.get("kind") == "List":
        return [spec for item in document["items"] for spec in _pod_specs(item)]
    spec = document.get("spec") or {}
    if document.get("kind") == "Pod":
        return [spec]
    if document.get("kind") == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    pod = (spec.get("template") or {}).get("spec")
    return [pod] if pod else []


def _containers(documents: list[Any]) -> list[dict[str, Any]]:
    return [c for d in documents for pod in _pod_specs(d) for c in pod.get("containers", [])]


def _without_argv(documents: list[Any]) -> list[Any]:
    for container in _containers(documents):
        container.pop("command", None)
        container.pop("args", None)
    return documents


def _celery_argvs(documents: list[Any]) -> list[list[str]]:
    return [
        argv
        for container in _containers(documents)
        for argv in celery_argvs(container.get("command", []) + container.get("args", []))
    ]
