"""CF107: a Celery worker or beat container of a Kubernetes manifest may run as root."""

from celeryfix.rule import Example, FileKind, Rule, Safety
from celeryfix.rules import register

RULE = register(
    Rule(
        id="CF107",
        name="kubernetes-runs-as-root",
        summary="Report (or, selected, fix) celery worker/beat containers of Kubernetes manifests that may run as root.",
        safety=Safety.UNSAFE,
        reads=FileKind.KUBERNETES,
        docs="""\
## Why
A container runs as the user its securityContext names, else as its image's user: root unless
the image sets `USER`. A Celery worker there prints the superuser warning and runs every task
as root.

## What it does by default: report
Every container of a Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob
(`jobTemplate`) or Pod (also inside `kind: List`, in every document of a multi-document file)
whose argv (`command` + `args`) runs `celery ... worker` or `celery ... beat`, and whose
securityContext does not make it non-root, gets an `advice` note: set `securityContext:
{runAsNonRoot: true, runAsUser: <uid>}` on the pod or the container. That is the idiomatic fix
in Kubernetes, and only the manifest's author knows a uid the image can run as. Nothing is
changed. `--ignore CF107` (or a `--select` naming only other rules) silences the notes.

## Why the edit is unsafe (made only when selected: `--select CF107`)
celeryfix cannot see the image's own user. If the image already ends with a non-root `USER`,
`--uid` makes the worker fail at start with `PermissionError: [Errno 1] Operation not
permitted`.

## What it changes when selected
`--uid=nobody --gid=nogroup` become new items of the list that holds the invocation's last word
(`command` or `args`), in the list's own layout: flow lists keep their separators and quote
style, block lists get new lines at the siblings' indentation (CRLF kept). Inside a `sh -c`
script item the options go at the end of the celery command, inside the string. The group is
`nobody` for RHEL-family images; beat also gets `--schedule=/tmp/celerybeat-schedule` unless
its schedule is kept elsewhere (as CF102). The edited file is composed again: its documents
must equal the old ones except for the added options, or nothing of it is changed.

## What it leaves alone (and reports)
A container whose effective securityContext is non-root: `runAsUser` other than 0 (the
container's over the pod's), else `runAsNonRoot: true` (the kubelet then refuses to start a
root image). Commands that already drop root (`--uid`/`--gid`, `gosu`, `su-exec`,
`s6-setuidgid`, `setpriv`, `chpst -u`), detached workers and `celery multi`, `<tool> celery ...`
wrappers, `args: [celery, worker]` on an Airflow image (its entrypoint is `airflow`). Helm
templates (`{{ ... }}`) and Jinja are not YAML: skipped with a reason, never an error; a
manifest that mentions Celery and is not valid YAML is noted and left alone; any other YAML file
is not reported at all.
""",
        examples=(
            Example(
                "k8s/worker.yaml",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: app:1.0\n          command: [celery, -A, proj, worker]\n",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  template:\n    spec:\n      containers:\n        - name: worker\n          image: app:1.0\n          command: [celery, -A, proj, worker, --uid=nobody, --gid=nogroup]\n",
            ),
        ),
    )
)
