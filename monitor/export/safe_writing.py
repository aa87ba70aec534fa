"""Safe writing for every export: a file appears whole, owner-only, or not at all.

:func:`atomic_write` writes through a temporary file in the target folder,
flushed, fsynced, checked, then renamed into place; :class:`ExportError`
names the path and the reason. The rules are described in
:mod:`monitor.export.common` (*Safe writing*), which imports these names too.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from collections.abc import Callable, Sequence
from pathlib import Path


class ExportError(RuntimeError):
    """An export could not be written; the message names the file and the reason."""


# -- safe writing -------------------------------------------------------------------

Writer = Callable[[Path], None]
"""Writes a complete file at the (temporary) path it is given."""
Check = Callable[[Path], None]
"""Checks the written (temporary) file, raising :class:`ExportError` if it is not complete."""

FILE_MODE = 0o600
"""Permissions of every export file: owner-only, whatever the umask."""


def atomic_write(path: Path, writer: Writer, *, check: Check | None = None) -> Path:
    """Write ``path`` through ``writer`` all at once, or not at all.

    Parameters
    ----------
    path : Path
    writer : callable
        Called with a temporary path in the same folder (same suffix); must
        leave a complete file there.
    check : callable, optional
        Called with the temporary path once it is written and fsynced; raises
        :class:`ExportError` (see :func:`short_file`) if the file is not whole.

    Raises
    ------
    ExportError
        Naming ``path`` and why (folder missing or not writable, disk full,
        the writer's own error). No file, temporary or final, is left.
    """
    atomic_write_all([(Path(path), writer, check)])
    return Path(path)


def atomic_write_all(items: Sequence[tuple[Path, Writer] | tuple[Path, Writer, Check | None]]
                     ) -> list[Path]:
    """Write several files all-or-nothing: they are renamed into place only when all are done."""
    jobs = [(Path(it[0]), it[1], it[2] if len(it) > 2 else None) for it in items]  # type: ignore[misc]
    for path, _, _ in jobs:
        check_target(path)
    done: list[tuple[Path, Path]] = []
    try:
        for path, writer, check in jobs:
            tmp = _temp_path(path)
            done.append((tmp, path))
            _run_writer(path, tmp, writer, check)
        for tmp, path in done:
            try:
                os.replace(tmp, path)
            except OSError as exc:
                raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    except BaseException:
        for tmp, _ in done:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for folder in {p.parent for p, _, _ in jobs}:
        _fsync_folder(folder)
    return [p for p, _, _ in jobs]


def check_target(path: Path) -> None:
    """Fail early, before any work, when ``path`` cannot be written."""
    path = Path(path)
    folder = path.parent
    if path.name in ("", ".", ".."):
        raise ExportError(f"cannot write {path}: not a file name")
    if not folder.is_dir():
        why = "is not a folder" if folder.exists() else "does not exist"
        raise ExportError(f"cannot write {path}: the folder {folder} {why}")
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a folder")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ExportError(f"cannot write {path}: the folder {folder} is not writable")
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"cannot write {path}: the file exists and is read-only")


def short_file(tmp: Path, expected: int | None, what: str = "the file") -> ExportError:
    """The error for a file a library left incomplete without saying why (``expected`` bytes).

    The reason is the precise one where it can be told: the process's
    file-size limit was reached, or the disk has no room for the missing
    bytes ("the disk is full"); otherwise how much came out.
    """
    size = tmp.stat().st_size if tmp.exists() else 0
    return ExportError(f"cannot write {tmp}: {_short_reason(tmp, size, expected, what)}")


def _short_reason(tmp: Path, size: int, expected: int | None, what: str) -> str:
    try:
        import resource

        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY and size >= limit:
            return _FILE_TOO_LARGE
    except (ImportError, OSError, ValueError):
        pass
    missing = None if expected is None else max(expected - size, 1)
    try:
        st = os.statvfs(tmp.parent)
        free = (st.f_bfree if os.geteuid() == 0 else st.f_bavail) * st.f_frsize
        if free < (missing if missing is not None else 64 * 1024):
            return "the disk is full"
    except (AttributeError, OSError):
        pass
    if expected is None:
        return f"{what} came out incomplete ({size} bytes)"
    return f"{what} came out incomplete ({size} of {expected} bytes)"


_FILE_TOO_LARGE = "the file is larger than this process may write (file size limit)"


def check_size(expected: int, what: str = "the file") -> Check:
    """A :data:`Check` that the file holds exactly ``expected`` bytes."""
    def check(tmp: Path) -> None:
        if tmp.stat().st_size != expected:
            raise short_file(tmp, expected, what)
    return check


def _temp_path(path: Path) -> Path:
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.partial{path.suffix}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        try:
            os.fchmod(fd, FILE_MODE)        # exactly 0600, whatever the umask
        finally:
            os.close(fd)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    return tmp


def _run_writer(path: Path, tmp: Path, writer: Writer, check: Check | None) -> None:
    try:
        writer(tmp)
        with open(tmp, "rb+") as f:     # the bytes are on disk before the rename
            f.flush()
            os.fsync(f.fileno())
        if check is not None:
            check(tmp)
    except ExportError as exc:
        raise ExportError(str(exc).replace(str(tmp), str(path))) from exc
    except (KeyboardInterrupt, SystemExit):
        raise
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_reason(exc)}") from exc
    except Exception as exc:
        raise ExportError(f"cannot write {path}: {type(exc).__name__}: {exc}") from exc


def _fsync_folder(folder: Path) -> None:
    """Make the renames durable (not possible on every system: then skipped)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return "the disk is full"
        if exc.errno == errno.EFBIG:
            return _FILE_TOO_LARGE
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied"
        if exc.errno == errno.EROFS:
            return "the disk is read-only"
        if exc.strerror:
            return exc.strerror[:1].lower() + exc.strerror[1:]
    return str(exc) or type(exc).__name__
