"""Pre-release only: rewrite the initial migration from the models.

Until the first release no catalogue exists that must be upgraded in place, so
the tables live in one initial revision, regenerated after a model changes
(the revisions built on it, such as the audit triggers of 0002, are kept)::

    python -m workbench.store.migrations.regenerate_initial

After the first release, add a new revision instead
(``alembic revision --autogenerate``) and remove this module.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from workbench.config import Settings
from workbench.store import Store

INITIAL = Path(__file__).with_name("versions") / "0001_initial.py"


def main() -> None:
    later = [f for f in INITIAL.parent.glob("*.py") if f != INITIAL]   # revisions built on 0001 (triggers...)
    INITIAL.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        aside = Path(tmp) / "later"
        aside.mkdir()
        for revision in later:
            revision.rename(aside / revision.name)
        try:
            store = Store(Settings.from_env({}, home=tmp))
            with store.engine.begin() as connection:
                command.revision(store.alembic_config(connection), message="initial schema",
                                 autogenerate=True, rev_id="0001")
            store.dispose()
        finally:
            for revision in later:
                (aside / revision.name).rename(revision)
    generated = next(INITIAL.parent.glob("0001_*.py"))
    generated.rename(INITIAL)
    print(f"wrote {INITIAL}")


if __name__ == "__main__":
    main()
