"""Access: case-scoped, authorised, audited reads (the only path to the data).

    >>> from workbench.access import Workspace
    >>> ws = Workspace(Settings.from_env())        # doctest: +SKIP
    >>> me = ws.login("inspector.dupont")          # doctest: +SKIP
"""

from workbench.access.session import CaseInfo, CaseScope, Grant, UserInfo, UserSession, Workspace

__all__ = ["CaseInfo", "CaseScope", "Grant", "UserInfo", "UserSession", "Workspace"]
