"""Pack kernels only (this folder is first on their PYTHONPATH): record what the notebook
reads when the builder asks for it (see ``_workbench_reads``)."""

import os

if os.environ.get("WORKBENCH_READS"):
    import _workbench_reads

    _workbench_reads.install()
