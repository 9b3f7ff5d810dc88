"""Copy a trainee's submission folder without ever reading anything outside it.

A submission is untrusted: it lives in a folder the trainee writes (the exchange inbound) and is
read with the instructor's rights. Python's ``shutil.copytree`` and nbgrader's copies follow
symbolic links, so a trainee could make collect or autograde read /etc/shadow or the instructor's
``source/`` notebook. ``copy_submission`` copies only what is really inside the folder:

- **symbolic links**, **named pipes (FIFOs)**, **sockets** and **devices** are refused, never
  opened (a FIFO would block the copy for ever, a link points outside);
- a **regular file with more hard links than it has names inside the submission** is refused:
  the same inode is reachable from somewhere else, so it may be a file the trainee could not
  read, or one that changes after the check. nbgrader's submit and collect copy files, so an
  honest submission never has one; two names for one file inside the submission are fine.
  (A snapshot of ``submitted/`` made with ``cp -al`` or ``rsync --link-dest`` would look
  like that: back up with ``cp -a``.)

No time-of-check/time-of-use gap: every folder and file is opened relative to its parent's
descriptor with ``O_NOFOLLOW`` (``O_NONBLOCK`` so a FIFO swapped in cannot block), and the
checks are made with ``fstat`` on the descriptor the data is then read from. Whatever is
refused is returned, so callers can name it.
"""

from __future__ import annotations

import errno
import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path

_NOFOLLOW = os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | os.O_NONBLOCK
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW
_FILE_FLAGS = os.O_RDONLY | _NOFOLLOW
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Refused:
    """One entry of a submission that was not copied."""

    path: str  # relative to the submission folder, "/"-separated (as the trainee named it)
    why: str  # English, for the instructor

    def __str__(self) -> str:
        return f"{printable(self.path)}: {self.why}"


class UnsafeSubmission(Exception):
    """The submission folder itself cannot be read safely (a link, not a folder, too large)."""


def printable(text: str, limit: int = 120) -> str:
    """Trainee-chosen names shown in the instructor's terminal: control characters escaped, cut
    in the middle (a path's end, the file name, says most)."""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)
    if len(shown) <= limit:
        return shown
    tail = limit // 2
    return shown[: limit - tail - 1] + "…" + shown[-tail:]


def kind_of(mode: int) -> str | None:
    """None for a regular file or a folder, else what the entry is (for the note)."""
    for test, name in ((stat.S_ISLNK, "symbolic link"), (stat.S_ISFIFO, "named pipe (FIFO)"),
                       (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device")):
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "special file"


def _describe(name: str, dir_fd: int, st: os.stat_result) -> str:
    kind = kind_of(st.st_mode) or "special file"
    if stat.S_ISLNK(st.st_mode):
        try:  # the target is the trainee's own text: shown, never followed
            kind += f" to {printable(os.readlink(name, dir_fd=dir_fd), 80)}"
        except OSError:
            pass
    return f"{kind} refused"


def open_folder(base: Path | str, *names: str) -> int:
    """A descriptor on ``base/names…``: ``base`` is trusted, each of ``names`` must be a real folder.

    Raises UnsafeSubmission when one of ``names`` is a link or not a folder.
    """
    fd = os.open(base, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
    try:
        for name in names:
            try:
                child = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    raise UnsafeSubmission(f"{printable(name)}: {_describe(name, fd, st)}") from None
                raise
            os.close(fd)
            fd = child
    except BaseException:
        os.close(fd)
        raise
    return fd


def copy_submission(src: Path | str | int, dest: Path | str, *, exclude: list[str] | tuple = (),
                    include: list[str] | tuple | None = None, max_file_size: int | None = None,
                    max_total_size: int | None = None, skip_names: tuple[str, ...] = ()) -> list[Refused]:
    """Copy folder ``src`` (a path whose last component must be a real folder, or a descriptor
    from ``open_folder``, closed here) to the new folder ``dest``; return what was refused.

    ``exclude`` / ``include`` are nbgrader's ``CourseDirectory.ignore`` / ``include`` globs on
    names, ``max_file_size`` and ``max_total_size`` are in bytes (a larger file is dropped and
    noted; a larger submission raises UnsafeSubmission and nothing is left at ``dest``).
    ``skip_names`` are names at the top level that are silently not copied.
    """
    if isinstance(src, int):
        top = src
    else:
        src = Path(src)
        top = open_folder(src.parent, src.name)
    dest = Path(dest)
    copier = _Copier(exclude, include, max_file_size, max_total_size, skip_names)
    try:
        os.mkdir(dest, 0o700)
        copier.copy_dir(top, dest, "", os.fstat(top))
    except UnsafeSubmission:
        import shutil

        shutil.rmtree(dest, ignore_errors=True)
        raise
    finally:
        os.close(top)
    return copier.finish(dest)


class _Copier:
    def __init__(self, exclude, include, max_file_size, max_total_size, skip_names):
        self.exclude, self.include = list(exclude or ()), list(include or ())
        self.max_file_size, self.max_total_size = max_file_size, max_total_size
        self.skip_names = set(skip_names)
        self.refused: list[Refused] = []
        self.total = 0
        self.inodes: dict[tuple[int, int], tuple[int, list[str]]] = {}  # (dev, ino) -> (nlink, copied names)

    def copy_dir(self, fd: int, dest: Path, rel: str, dir_st: os.stat_result) -> None:
        with os.scandir(fd) as entries:
            names = sorted(entry.name for entry in entries)
        for name in names:
            path = f"{rel}{name}"
            if (not rel and name in self.skip_names) or any(fnmatch.fnmatch(name, g) for g in self.exclude):
                continue
            try:
                st = os.stat(name, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                continue  # gone meanwhile: nothing to copy
            if stat.S_ISDIR(st.st_mode):
                self._subdir(fd, name, dest, path, st)
            elif stat.S_ISREG(st.st_mode):
                if self.include and not any(fnmatch.fnmatch(name, g) for g in self.include):
                    continue
                self._file(fd, name, dest / name, path, st)
            else:
                self.refused.append(Refused(path, _describe(name, fd, st)))
        os.chmod(dest, (stat.S_IMODE(dir_st.st_mode) | 0o700) & 0o777)

    def _subdir(self, parent: int, name: str, dest: Path, path: str, st: os.stat_result) -> None:
        try:
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
        except OSError as exc:
            self.refused.append(Refused(path + "/", f"folder not readable ({exc.strerror})"))
            return
        try:
            now = os.fstat(fd)
            if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                self.refused.append(Refused(path + "/", "folder replaced while being copied: refused"))
                return
            os.mkdir(dest / name, 0o700)
            self.copy_dir(fd, dest / name, path + "/", now)
        finally:
            os.close(fd)

    def _file(self, parent: int, name: str, target: Path, path: str, st: os.stat_result) -> None:
        try:
            fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # became a link after the lstat
                self.refused.append(Refused(path, "symbolic link refused"))
            else:
                self.refused.append(Refused(path, f"not readable ({exc.strerror})"))
            return
        try:
            now = os.fstat(fd)  # what we read from is what we check
            if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
                self.refused.append(Refused(path, "replaced while being copied: refused"))
                return
            if self.max_file_size is not None and now.st_size > self.max_file_size:
                self.refused.append(Refused(path, f"larger than {self.max_file_size:,} bytes: dropped"))
                return
            self.total += now.st_size
            if self.max_total_size is not None and self.total > self.max_total_size:
                raise UnsafeSubmission(f"submission larger than {self.max_total_size:,} bytes")
            self._write(fd, target, now)
            key = (now.st_dev, now.st_ino)
            self.inodes.setdefault(key, (now.st_nlink, []))[1].append(path)
        finally:
            os.close(fd)

    def _write(self, fd: int, target: Path, st: os.stat_result) -> None:
        limit = self.max_file_size if self.max_file_size is not None else None
        out = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                      0o600)
        try:
            written = 0
            while chunk := os.read(fd, _CHUNK):
                written += len(chunk)
                if limit is not None and written > limit:  # grew after the check
                    raise UnsafeSubmission(f"{target.name} grew beyond {limit:,} bytes while being copied")
                os.write(out, chunk)
            os.fchmod(out, (stat.S_IMODE(st.st_mode) | 0o600) & 0o777)  # never setuid/setgid
            os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
        finally:
            os.close(out)

    def finish(self, dest: Path) -> list[Refused]:
        """Drop files whose inode also has names outside the submission (hard links)."""
        for nlink, paths in self.inodes.values():
            if nlink > len(paths):
                for path in paths:
                    os.unlink(dest / path)
                    self.refused.append(Refused(path, f"hard link to a file outside the submission "
                                                      f"({nlink} links, {len(paths)} inside) refused"))
        return sorted(self.refused, key=lambda r: r.path)


def inspect(folder: Path | str) -> list[Refused]:
    """What ``copy_submission`` would refuse in ``folder``, by ``lstat`` only (nothing opened).

    For checks after the fact (plain ``nbgrader autograde`` has already read the folder).
    """
    folder = Path(folder)
    refused, inodes = [], {}
    if folder.is_symlink():
        return [Refused(".", "the submission folder is a symbolic link")]
    for parent, dirs, files in os.walk(folder):  # os.walk does not descend into linked folders
        for name in sorted(dirs + files):
            path = Path(parent, name)
            rel = path.relative_to(folder).as_posix()
            st = path.lstat()
            if stat.S_ISREG(st.st_mode):
                inodes.setdefault((st.st_dev, st.st_ino), (st.st_nlink, []))[1].append(rel)
            elif not stat.S_ISDIR(st.st_mode):
                kind = kind_of(st.st_mode)
                refused.append(Refused(rel, f"{kind} refused"))
    for nlink, paths in inodes.values():
        if nlink > len(paths):
            refused += [Refused(p, f"hard link to a file outside the submission ({nlink} links, {len(paths)} inside) "
                                   "refused") for p in paths]
    return sorted(refused, key=lambda r: r.path)
