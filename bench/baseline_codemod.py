"""The baseline's codemod: the trivial libcst codemod a developer would write for the task."""

from __future__ import annotations

import libcst as cst
from libcst.codemod import VisitorBasedCodemodCommand

# What celeryfix adds for CF201, CF202 and CF203 (namespace "CELERY").
WANTED = (
    ("CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP", "True"),
    ("CELERY_WORKER_HIJACK_ROOT_LOGGER", "False"),
    ("CELERY_WORKER_LOG_COLOR", "False"),
)


class AddCelerySettings(VisitorBasedCodemodCommand):
    """Append the CELERY_ settings a module does not assign yet at its top level."""

    DESCRIPTION = "Add CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP and two more settings."

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        assigned: set[str] = set()
        for statement in updated_node.body:
            if isinstance(statement, cst.SimpleStatementLine):
                for small in statement.body:
                    if isinstance(small, cst.Assign):
                        assigned.update(
                            t.target.value for t in small.targets if isinstance(t.target, cst.Name)
                        )
        missing = [
            cst.SimpleStatementLine(
                [cst.Assign([cst.AssignTarget(cst.Name(name))], cst.Name(value))]
            )
            for name, value in WANTED
            if name not in assigned
        ]
        if not missing:
            return updated_node
        return updated_node.with_changes(body=[*updated_node.body, *missing])
