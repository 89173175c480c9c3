"""Which symlinks a snapshot may follow: only those that stay inside the folder they are in.

A snapshot is copied into run folders, mounted into containers, put into shared stores
for cluster workers and recorded in registries, so a link to ``/etc/passwd`` or ``~/.ssh``
in a code folder would carry that file everywhere the snapshot goes. Azure ML's SDK follows
every link (``os.walk(followlinks=True)`` when uploading code, ``Path.resolve`` and
``shutil.copy2`` for additional includes) and fails on dangling ones; amlrun follows links
that stay inside their snapshot source (the code folder, or one included folder) and
refuses the rest, naming the link and the fix. Dangling links are errors too, as they
are when Azure ML uploads them, only with a clear message.
"""

from __future__ import annotations

import os

from amlrun.errors import SpecError

_FIX = (
    "copy the file into the folder, list its target in additional_includes, "
    "or add '{rel}' to .amlignore"
)


def check_link(link: str, rel: str, bound: str) -> None:
    """Refuse ``link`` (at ``rel`` in the snapshot) unless its target exists inside ``bound``."""
    target = os.path.realpath(link)
    if not os.path.exists(target):
        raise SpecError(
            f"symlink {link} (at {rel} in the snapshot) points at {os.readlink(link)}, "
            "which does not exist",
            fix=f"remove the link, or add '{rel}' to .amlignore",
        )
    if not is_within(target, bound):
        raise SpecError(
            f"symlink {link} (at {rel} in the snapshot) points at {target}, outside {bound}; "
            "a snapshot only follows links that stay inside the folder it copies",
            fix=_FIX.format(rel=rel),
        )


def check_include(src: str) -> None:
    """An additional include that is itself a link may point inside its own folder only."""
    if os.path.islink(src):
        parent = os.path.realpath(os.path.dirname(src))
        target = os.path.realpath(src)
        if not is_within(target, parent):
            raise SpecError(
                f"additional include {src} is a symlink to {target}, outside {parent}",
                fix=f"name {target} itself in additional_includes, or copy it next to the spec",
            )


def is_within(path: str, folder: str) -> bool:
    """Whether real path ``path`` is ``folder`` or below it."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
