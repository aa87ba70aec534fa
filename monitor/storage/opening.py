"""Opening the database: the data directory, pragmas, permissions and the integrity check.

Everything here runs before the recorder thread starts or after it stops,
on whatever thread composes the app; the recorder thread owns its own
connection while it runs. The session rows are in :mod:`monitor.storage.database`.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from monitor.storage.schema import SchemaError, migrate

log = logging.getLogger("monitor.storage.database")   # the name these messages always had

DB_NAME = "infusion-monitor.sqlite3"
MIN_FREE_BYTES = 20 * 1024 * 1024


class StorageError(RuntimeError):
    """Recording is impossible; the message says what and where."""


class DamagedDatabase(StorageError):
    """The database file fails SQLite's integrity check; it was left untouched."""


SIDE_FILES = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database, which belong to it."""


def default_data_dir() -> Path:
    """The per-user data folder (platformdirs), e.g. ~/.local/share/infusion-monitor."""
    return Path(platformdirs.user_data_dir("infusion-monitor", appauthor=False))


def connect(path: Path, *, readonly: bool = False,
            busy_timeout_ms: int = 10_000) -> sqlite3.Connection:
    """A connection with the app's pragmas. Writers get WAL and full sync.

    A reader opens the file read-only and never writes to it or its folder;
    see :func:`_open_readonly` for a database in a folder it cannot write.
    """
    if readonly:
        conn = _open_readonly(Path(path))
        conn.execute("PRAGMA query_only = ON")
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
        conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a committed batch survives a power cut, not only a killed process.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    return conn


def _uri(path: Path, query: str) -> str:
    return f"{path.absolute().as_uri()}?{query}"


_snapshots: dict[tuple[Path, int, int, int], Path] = {}
"""Private copies of read-only databases with a waiting log, by (file, size, log size, log
mtime): every reader of one unchanged file shares one copy."""


def _remove_snapshots() -> None:
    for copy in _snapshots.values():
        shutil.rmtree(copy.parent, ignore_errors=True)


atexit.register(_remove_snapshots)


def _open_readonly(path: Path) -> sqlite3.Connection:
    """Open ``path`` for reading only, also where its folder or file cannot be written.

    A WAL database needs its ``-shm`` index, which a reader creates when it
    is missing: in a read-only folder (an archive, a USB stick, another
    user's folder shared read-only) plain ``mode=ro`` fails with "attempt to
    write a readonly database". Then, when no write-ahead log is waiting,
    the file is opened ``immutable`` (nothing can be changing it: no-one can
    write there); when a log is waiting (a session that was cut off), the
    database and its log are copied to a private temporary folder and the
    copy is read, so what the log holds is seen and the original is untouched.
    """
    def _open(uri: str) -> sqlite3.Connection:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA schema_version").fetchone()   # opening is lazy: open now
        except sqlite3.Error:
            conn.close()
            raise
        return conn

    if not path.is_file():
        raise sqlite3.OperationalError(f"no database file at {path}")
    try:
        return _open(_uri(path, "mode=ro"))
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "readonly" not in text and "unable to open" not in text:
            raise
        if os.access(path.parent, os.W_OK) and os.access(path, os.W_OK):
            raise
    wal = path.with_name(path.name + "-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return _open(_uri(path, "immutable=1"))
    log_stat = wal.stat()
    key = (path.absolute(), path.stat().st_size, log_stat.st_size, log_stat.st_mtime_ns)
    copy = _snapshots.get(key)
    if copy is None:
        folder = Path(tempfile.mkdtemp(prefix="infusion-monitor-ro-"))   # 0700
        copy = folder / path.name
        shutil.copyfile(path, copy)
        shutil.copyfile(wal, folder / wal.name)
        _snapshots[key] = copy
        log.info("read-only folder with a waiting log: reading a copy of %s in %s", path,
                 folder)
    return _open(_uri(copy, "mode=ro"))


def _owner_only(path: Path, mode: int, what: str, hint: str) -> None:
    """Make ``path`` ``mode`` (owner-only) if others may read or enter it; refuse if not ours."""
    st = path.stat()
    if st.st_mode & 0o077 == 0:
        return
    if st.st_uid != os.geteuid():
        raise StorageError(f"the {what} {path} can be read by other users (mode "
                           f"{st.st_mode & 0o777:04o}) and belongs to another user, so it "
                           f"cannot be made private; {hint}")
    os.chmod(path, mode)
    log.warning("%s %s was mode %04o: made owner-only (%04o)", what, path,
                st.st_mode & 0o777, mode)


def check_database(path: Path) -> None:
    """Refuse a database file that fails ``PRAGMA quick_check``, reading it only.

    Raises
    ------
    DamagedDatabase
        The file is not a database or is damaged; nothing was written to it.
    """
    problems: list[str]
    try:
        conn = connect(path, readonly=True)
        try:
            rows = conn.execute("PRAGMA quick_check(3)").fetchall()
            problems = [" ".join(str(r[0]).split()) for r in rows]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        problems = [str(exc)]
    if problems != ["ok"]:
        raise DamagedDatabase(
            f"the database {path} is damaged ({'; '.join(problems)[:300]}). It has been left "
            f"untouched and nothing will be recorded into it. Keep a copy for recovery; to go "
            f"on recording, run again with --new-database (the damaged file is kept beside "
            f"the new one, renamed infusion-monitor.damaged-<time>.sqlite3), or choose "
            f"another folder with --data-dir")


def set_aside_damaged(path: Path) -> Path:
    """Rename a damaged database and its side files (every byte kept); returns the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"infusion-monitor.damaged-{stamp}.sqlite3")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"infusion-monitor.damaged-{stamp}-{n}.sqlite3")
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    path.rename(target)
    log.warning("damaged database %s set aside as %s", path, target)
    return target


def open_database(data_dir: Path | str | None, *, new_database: bool = False) -> Path:
    """Create (or open) the database in ``data_dir``, check it and migrate it.

    Returns the database path. An existing folder or database that other
    users could read is made owner-only (0700 / 0600) first. An existing
    database is checked with ``PRAGMA quick_check`` before anything is
    written to it; a damaged one is refused, or with ``new_database`` set
    aside under a ``damaged-<time>`` name so a fresh database starts beside it.

    Raises
    ------
    StorageError
        With a message naming the folder and the reason, when the folder
        cannot be created or written, the disk is nearly full, or the
        database is unreadable or from a newer version.
    DamagedDatabase
        The database fails its integrity check (and ``new_database`` is not set).
    """
    folder = Path(data_dir) if data_dir is not None else default_data_dir()
    hint = "choose a writable folder with --data-dir"
    if folder.exists() and not folder.is_dir():
        raise StorageError(f"the data folder {folder} is a file, not a folder; {hint}")
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise StorageError(f"cannot create the data folder {folder}: {exc.strerror or exc}; "
                           f"{hint}") from exc
    if not folder.is_dir():
        raise StorageError(f"the data folder {folder} is not a folder; {hint}")
    path = folder / DB_NAME
    try:
        _owner_only(folder, 0o700, "data folder", hint)
        for f in (path, *(path.with_name(path.name + x) for x in SIDE_FILES)):
            if f.exists():
                _owner_only(f, 0o600, "database file", hint)
    except OSError as exc:
        raise StorageError(f"cannot make {folder} private: {exc.strerror or exc}; "
                           f"{hint}") from exc
    if path.exists() and path.stat().st_size > 0:
        try:
            check_database(path)
        except DamagedDatabase:
            if not new_database:
                raise
            set_aside_damaged(path)
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise StorageError(f"cannot check free space in {folder}: {exc}; {hint}") from exc
    if free < MIN_FREE_BYTES:
        raise StorageError(f"the data folder {folder} has only {free // 1024} KiB free "
                           f"(at least {MIN_FREE_BYTES // (1024 * 1024)} MiB needed); {hint}")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        os.close(fd)
        conn = connect(path)
        try:
            migrate(conn)
            # Prove we can write: an empty immediate transaction takes the write lock.
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("COMMIT")
        finally:
            conn.close()
    except SchemaError as exc:
        raise StorageError(f"{path}: {exc}") from exc
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"cannot write the database {path}: {exc}; {hint}") from exc
    return path


@contextlib.contextmanager
def write_transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on error)."""
    conn = connect(path)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.close()
