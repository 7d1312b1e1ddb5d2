"""The "Workbench (audited)" Jupyter kernel: :mod:`~workbench.kernel.audited_kernel` (the kernel),
:mod:`~workbench.kernel.fork_server` (kernels forked for the apps), ``python -m workbench.kernel`` (the kernel spec's
command). Kept light: the launcher of a forked kernel imports nothing else."""
