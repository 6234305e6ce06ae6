"""Who a Kubernetes container runs as, and where workloads keep their pod spec."""

from __future__ import annotations

import pytest
from ruamel.yaml.nodes import Node

from celeryfix.compose.document import compose_documents, get
from celeryfix.sites.kubernetes import _containers, _non_root


def _context(text: str | None) -> Node | None:
    return None if text is None else get(compose_documents(f"x: {text}\n")[0], "x")


@pytest.mark.parametrize(
    ("pod", "container", "runs_as"),
    [
        (None, None, None),
        ("{runAsUser: 1000}", None, "runAsUser: 1000 in the pod securityContext"),
        (None, "{runAsUser: 1000}", "runAsUser: 1000 in the container securityContext"),
        ("{runAsUser: 1000}", "{runAsUser: 0}", None),
        ("{runAsUser: 0}", "{runAsUser: 10}", "runAsUser: 10 in the container securityContext"),
        ("{runAsUser: 0, runAsNonRoot: true}", None, None),
        ("{runAsNonRoot: true}", None, "runAsNonRoot: true in the pod securityContext"),
        ("{runAsNonRoot: true}", "{runAsNonRoot: false}", None),
        (None, "{runAsNonRoot: True}", "runAsNonRoot: true in the container securityContext"),
        ("{runAsNonRoot: 'false'}", None, None),
        ("{runAsGroup: 1000, fsGroup: 1000}", None, None),
        ("{runAsUser: '1000'}", None, "runAsUser: 1000 in the pod securityContext"),
    ],
)
def test_non_root(pod: str | None, container: str | None, runs_as: str | None) -> None:
    assert _non_root(_context(pod), _context(container)) == runs_as


WORKLOADS = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: d}
spec: {template: {spec: {containers: [{name: a, image: app}]}}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: c}
spec: {jobTemplate: {spec: {template: {spec: {containers: [{name: b}]}}}}}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec: {containers: [{name: c}], initContainers: [{name: init}]}
---
apiVersion: v1
kind: List
items:
- {kind: Job, metadata: {name: j}, spec: {template: {spec: {containers: [{name: d}]}}}}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {ports: [{port: 80}]}
"""


def test_containers_of_every_workload_kind() -> None:
    sites = [c.site for doc in compose_documents(WORKLOADS) for c in _containers(doc)]
    assert sites == [
        "container `a` of Deployment `d`",
        "container `b` of CronJob `c`",
        "container `c` of Pod `p`",
        "container `d` of Job `j`",
    ]
