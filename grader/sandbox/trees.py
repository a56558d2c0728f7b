"""Removing a box's folder whatever learner code did to it: shared by the zygote and the client.

Its own module so that the client, which removes a killed zygote's folder, need not
import the zygote's (ctypes, seccomp, the host) to start one.
"""

from __future__ import annotations

import contextlib
import os

TYPE_CHECKING = False  # typing's own is an import: zygotes load typing for boxes that use it
if TYPE_CHECKING:
    from typing import Any


def remove_tree(path: str) -> None:
    """rmtree that also removes what learner code chmod-ed shut (`chmod 0` on a folder).

    Only ever changes modes inside `path` itself: never its parent.
    """
    top = os.path.abspath(path)
    try:  # an empty folder (a zygote's, once its boxes are gone), or none, needs no shutil
        os.rmdir(top)
        return
    except FileNotFoundError:
        return
    except OSError:
        pass
    import shutil  # here: its archive formats' imports are a tenth of the zygote's boot


    def reopen(function: Any, failed: str, info: Any) -> None:
        if not isinstance(info[1], PermissionError):
            return  # gone already, or not ours to fix
        for folder in (os.path.dirname(failed), failed):
            inside = folder == top or folder.startswith(top + os.sep)
            if inside and os.path.isdir(folder) and not os.path.islink(folder):
                with contextlib.suppress(OSError):
                    os.chmod(folder, 0o700)  # the next pass gets in

    for _ in range(32):  # each pass opens one more level of shut folders
        if not os.path.lexists(top):
            return
        shutil.rmtree(top, onerror=reopen)
