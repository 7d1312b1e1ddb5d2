"""The facade: a case with the analysis cores attached.

``workbench.open()`` returns a :class:`~workbench.access.Workspace` whose
``open_case`` yields :class:`Case`: the access layer's :class:`CaseScope`
(authorised, audited reads) plus the analyses of the cores, each of which
obtains its data through ``CaseScope.access``.
"""

from __future__ import annotations

from workbench.access import CaseScope, Workspace
from workbench.access.session import Clock, _utcnow
from workbench.config import Settings


class Case(CaseScope):
    """An open case: cameras, plate reads, trajectories, frame search and evidence export."""


def open_workspace(settings: Settings, *, clock: Clock | None = None, sample: bool = False) -> Workspace:
    """A workspace whose cases are facade :class:`Case` objects.

    With ``sample=True`` the sample world is built first if the catalogue has
    none (what notebooks and trainers use on a fresh machine).
    """
    if sample:
        from workbench.samples import build_sample

        build_sample(settings)
    return Workspace(settings, clock=clock or _utcnow, case_class=Case)
