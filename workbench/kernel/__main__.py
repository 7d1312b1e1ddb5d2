"""``python -m workbench.kernel -f CONNECTION_FILE``: start the audited kernel (used by the kernel spec)."""

from ipykernel.kernelapp import IPKernelApp

from workbench.kernel import AuditedKernel

IPKernelApp.launch_instance(kernel_class=AuditedKernel)
