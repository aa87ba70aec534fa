"""Opening exports with their independent readers."""

from __future__ import annotations

import csv
import gc
import warnings
from pathlib import Path


def read_vital(path: Path):
    """``vitaldb.VitalFile(path)``.

    vitaldb's import warns about a pandas deprecation (in wfdb) and its
    reader leaves the file open for the garbage collector; both are
    vitaldb's, so they are silenced here only.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        import vitaldb

        vf = vitaldb.VitalFile(str(path))
        gc.collect()
    return vf


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def everything_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())
