"""A rule script's log: the first call of every script in workflow/scripts, before its other
imports, so that whatever makes a job fail (an import error included) lands in the `log:`
file Snakemake points to when it reports the failure."""

import logging
import os
import sys


def log_to(path: str) -> None:
    """Send this process's stderr and Python logging (INFO and up) to `path`, truncating it.

    File descriptor 2 itself is redirected, so an uncaught exception's traceback, warnings and
    what C extensions print (HDF5, torch) are in the file too, not only Python's sys.stderr."""
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, sys.stderr.fileno())
    os.close(fd)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s", force=True)
