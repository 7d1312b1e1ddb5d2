"""Access: case-scoped, authorised, audited reads (the only path to the data).

    >>> from workbench.access import Workspace
    >>> me = Workspace(settings).login("inspector.dupont")
    >>> me
    <UserSession inspector.dupont (investigator, PZ5339)>
"""

from workbench.access.session import CaseInfo, CaseScope, Grant, UserInfo, UserSession, Workspace

__all__ = ["CaseInfo", "CaseScope", "Grant", "UserInfo", "UserSession", "Workspace"]
