"""``python -m workbench``: the ``workbench`` command (``pack watch`` restarts through it)."""

from workbench.cli import main

main()
