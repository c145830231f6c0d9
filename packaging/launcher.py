"""The frozen bundle's entry point (PyInstaller runs this script): the ``mailsetup`` command."""

from __future__ import annotations

import multiprocessing
import sys

from app.__main__ import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a child process of a frozen program starts here too
    sys.exit(main())
