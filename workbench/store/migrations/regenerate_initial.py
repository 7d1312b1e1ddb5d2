"""Pre-release only: rewrite the initial migration from the models.

Until the first release no catalogue exists that must be upgraded in place, so
the schema lives in one initial revision, regenerated after a model changes::

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
    INITIAL.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Settings.from_env({}, home=tmp))
        with store.engine.begin() as connection:
            command.revision(store.alembic_config(connection), message="initial schema",
                             autogenerate=True, rev_id="0001")
        store.dispose()
    generated = next(INITIAL.parent.glob("0001_*.py"))
    generated.rename(INITIAL)
    print(f"wrote {INITIAL}")


if __name__ == "__main__":
    main()
