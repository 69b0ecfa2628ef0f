"""The index lock: one writer per index folder at a time.

``bot index`` (and ``--rebuild``, and ``bot chat --corpus``) hold an exclusive
``flock`` on ``index/.lock`` from before they read the manifest until the new
one is written and the old generations are gone. A second writer waits for the
first (up to ``BOT_INDEX_LOCK_TIMEOUT`` seconds), then re-reads the manifest the
first one wrote; past the timeout it refuses with :class:`IndexBusyError`.
Readers take no lock: the manifest switch is atomic.

The lock is the kernel's, so it goes away with its holder, even after
``kill -9``; the file itself is never deleted (deleting it would let two
writers hold locks on two different files).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path

from bot.errors import BotError, IndexBusyError

log = logging.getLogger(__name__)

LOCK_FILE = ".lock"

#: How often a waiting writer tries the lock again.
POLL_SECONDS = 0.1


@contextlib.contextmanager
def index_lock(index_dir: Path, timeout: float) -> Iterator[None]:
    """Hold the exclusive writer lock of ``index_dir`` (created if missing).

    Args:
        index_dir: the index folder.
        timeout: seconds to wait for another writer; 0 refuses at once.

    Raises:
        IndexBusyError: another writer still holds it after ``timeout``.
        BotError: the folder cannot be created or locked (it is a file, read-only…).
    """
    import fcntl

    path = Path(index_dir) / LOCK_FILE
    try:
        Path(index_dir).mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise BotError(f"cannot use {index_dir} as an index folder ({exc.strerror or exc}); {_fix(exc)}") from exc
    try:
        deadline = time.monotonic() + max(0.0, timeout)
        said = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise BotError(f"cannot lock {path} ({exc.strerror}); {_fix(exc)}") from exc
            if time.monotonic() >= deadline:
                raise IndexBusyError(
                    f"another `bot index` is writing {index_dir}{_holder(fd)}; "
                    "run this again when it has finished"
                )
            if not said:
                log.info("another `bot index` is writing %s%s; waiting for it", index_dir, _holder(fd))
                said = True
            time.sleep(POLL_SECONDS)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _holder(fd: int) -> str:
    """`` (process N)`` from the lock file, when the holder wrote its pid."""
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (process {text})" if text.isdigit() else ""


def _fix(exc: OSError) -> str:
    if exc.errno in (errno.ENOTDIR, errno.EEXIST):
        return "give --index (or BOT_INDEX_DIR) a folder, not a file"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "make the folder writable or give --index another folder"
    if exc.errno == errno.ENOSPC:
        return "free some disk space and run it again"
    return "check the folder and run it again"
