"""``python -m workbench.kernel -f CONNECTION_FILE``: start the audited kernel (used by the kernel spec).

Under ``workbench apps`` the kernel is forked by its fork server (see
:mod:`workbench.kernel.fork_server`) and this process only relays.
"""

import os
import sys

from workbench.kernel.fork_server import SOCKET_VARIABLE, launch, run_kernel

status = launch(os.environ[SOCKET_VARIABLE], sys.argv[1:]) if os.environ.get(SOCKET_VARIABLE) else None
if status is None:
    run_kernel(sys.argv[1:])
else:
    sys.exit(status)
