"""Install the "Workbench (audited)" kernel spec, written with the current interpreter.

    python -m workbench.kernelspec install --sys-prefix
    workbench kernel install --user
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel

from workbench.errors import ConfigurationError

KERNEL_NAME = "workbench-audited"
TEMPLATE = Path(__file__).resolve().parents[1] / "kernels" / KERNEL_NAME / "kernel.json.in"


def install(*, user: bool = False, prefix: str | None = None) -> str:
    """Write the kernel spec from the template in kernels/; returns where it went."""
    if not TEMPLATE.exists():
        raise ConfigurationError(f"the kernel spec template {TEMPLATE} is missing: install the workbench from its "
                                 "source tree (pip install -e .)")
    spec = json.loads(TEMPLATE.read_text().replace("@PYTHON@", json.dumps(sys.executable)[1:-1]))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / KERNEL_NAME
        folder.mkdir()
        (folder / "kernel.json").write_text(json.dumps(spec, indent=2))
        return KernelSpecManager().install_kernel_spec(str(folder), KERNEL_NAME, user=user, prefix=prefix)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "install":
        raise SystemExit("usage: python -m workbench.kernelspec install [--user | --sys-prefix]")
    where = install(user="--user" in args, prefix=sys.prefix if "--sys-prefix" in args else None)
    print(f"installed the 'Workbench (audited)' kernel spec in {where}")


if __name__ == "__main__":
    main()



class AuditedOnlyKernelSpecManager(KernelSpecManager):
    """Lists and starts the audited kernel only (the team deployment's servers use it).

    jupyter_client's ``allowed_kernelspecs`` hides other kernels from the list
    but still starts ``python3`` when asked for it by name; this one refuses:

        jupyterhub-singleuser --ServerApp.kernel_spec_manager_class=workbench.kernelspec.AuditedOnlyKernelSpecManager
    """

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name != KERNEL_NAME:
            raise NoSuchKernel(kernel_name)
        return super().get_kernel_spec(kernel_name)

    def find_kernel_specs(self) -> dict[str, str]:
        return {name: path for name, path in super().find_kernel_specs().items() if name == KERNEL_NAME}
