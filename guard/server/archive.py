"""Unpack a configuration version (`.tar.gz`) safely, keeping only what the check reads.

The archive comes from the network. Nothing in it may write outside the target folder, and it
may not make the server unpack without end:
- entries with an absolute path or a `..` component are skipped;
- links (symbolic and hard), devices and FIFOs are skipped: only regular files are written, by
  this code, into folders it created (so no component of a target path is a link);
- only the files the check reads are written: Terraform/OpenTofu sources and variable files
  and the replace-guard config;
- limits: number of entries, the sum of the sizes the entries declare (which bounds what the
  decompressor must read, skipped entries included), and the size of each file written.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

SOURCE_SUFFIXES = (".tf", ".tf.json", ".tofu", ".tofu.json", ".tfvars", ".tfvars.json")
CONFIG_NAMES = frozenset({".replace-guard.toml", "pyproject.toml"})


class ArchiveError(Exception):
    """The archive cannot be used; the text says why, for the run task message."""


@dataclass(frozen=True)
class Limits:
    max_members: int = 100_000
    max_unpacked_bytes: int = 1 << 30
    max_file_bytes: int = 16 << 20


@dataclass
class Unpacked:
    files: int = 0
    links: list[str] = field(default_factory=list)  # skipped link entries
    unsafe: list[str] = field(default_factory=list)  # skipped entries with unsafe paths
    too_big: list[str] = field(default_factory=list)

    def skipped_note(self) -> str:
        parts = []
        if self.unsafe:
            parts.append(f"{len(self.unsafe)} entr{'y' if len(self.unsafe) == 1 else 'ies'} "
                         "with a path outside the folder")
        if self.links:
            parts.append(f"{len(self.links)} link(s)")
        if self.too_big:
            parts.append(f"{len(self.too_big)} file(s) over the size limit")
        return ("The configuration archive held " + " and ".join(parts) + "; they were not unpacked.") if parts else ""


def safe_parts(name: str) -> tuple[str, ...] | None:
    """The path components of an entry name, or None when it could leave the target folder."""
    if not name or "\x00" in name or name.startswith("/"):
        return None
    parts = tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))
    if not parts or any(p == ".." for p in parts):
        return None
    return parts


def wanted(filename: str) -> bool:
    return filename.endswith(SOURCE_SUFFIXES) or filename in CONFIG_NAMES


def unpack(archive: Path, dest: Path, limits: Limits = Limits()) -> Unpacked:
    """Unpack the wanted files of ARCHIVE (tar, gzip or not) into DEST (an empty folder)."""
    done = Unpacked()
    dest = dest.resolve()
    declared = 0
    try:
        with tarfile.open(archive, mode="r|*") as tar:
            for count, member in enumerate(tar, 1):
                if count > limits.max_members:
                    raise ArchiveError(f"it holds more than {limits.max_members:,} entries")
                declared += max(0, member.size)
                if declared > limits.max_unpacked_bytes:
                    raise ArchiveError(f"it unpacks to more than {limits.max_unpacked_bytes // (1 << 20):,} MB")
                if member.issym() or member.islnk():
                    done.links.append(member.name)
                    continue
                if not member.isfile():
                    continue  # folders are made as needed; devices and FIFOs are never made
                parts = safe_parts(member.name)
                if parts is None:
                    done.unsafe.append(member.name)
                    continue
                if not wanted(parts[-1]):
                    continue
                if member.size > limits.max_file_bytes:
                    done.too_big.append(member.name)
                    continue
                _write(tar, member, dest, parts, limits.max_file_bytes)
                done.files += 1
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise ArchiveError(f"it is not a readable .tar.gz ({type(exc).__name__}: {exc})") from None
    return done


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, dest: Path, parts: tuple[str, ...], cap: int) -> None:
    target = dest.joinpath(*parts)
    if dest not in target.parents:  # cannot happen after safe_parts; kept as a second lock
        raise ArchiveError(f"entry {member.name!r} points outside the folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    if source is None:
        return
    # O_NOFOLLOW: never write through a link (this code makes none, but be sure).
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(target, flags, 0o644)
    written = 0
    with os.fdopen(fd, "wb") as out:
        while chunk := source.read(1 << 16):
            written += len(chunk)
            if written > cap:
                raise ArchiveError(f"entry {member.name!r} is larger than it says")
            out.write(chunk)


def source_root(unpacked_dir: Path, working_directory: str) -> tuple[Path | None, str]:
    """The root module inside the unpacked configuration: (folder, '') or (None, why not)."""
    wd = working_directory.strip().strip("/")
    if not wd:
        return unpacked_dir, ""
    parts = safe_parts(wd)
    if parts is None:
        return None, f"the working directory {wd!r} is not a folder inside the configuration"
    root = unpacked_dir.joinpath(*parts)
    if not root.is_dir():
        return None, f"the configuration has no .tf files in the working directory {wd!r}"
    return root, ""
