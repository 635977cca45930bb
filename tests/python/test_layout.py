#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every ctypes.Structure of the Python package has the layout of the C struct it mirrors.

Each mirror names its C struct in _c_name_; the program struct-layout (argument 1) prints each
mirrored C struct's sizeof and its members' names, offsets and sizes in declaration order.
The mirrors are found by walking the package's modules, so a new mirror without an entry in
struct-layout.c fails, as does an entry that no mirror uses. Nested structs and fixed arrays
are covered through the offsets and sizes of the members that hold them.
Exits 77 without numpy (the package needs it); a module whose optional third-party package
(mne, nibabel) is missing is skipped and said so.
"""
import ctypes
import importlib
import json
import pkgutil
import sys

from common import check, done, run

import libxai


def mirrors():
    """{class: module name} of the ctypes.Structure classes defined in the package's modules."""
    found = {}
    for info in pkgutil.iter_modules(libxai.__path__, libxai.__name__ + "."):
        try:
            mod = importlib.import_module(info.name)
        except ModuleNotFoundError as e:
            if e.name and e.name.split(".")[0] == libxai.__name__:
                raise
            print("# %s not checked: it needs %s" % (info.name, e.name))
            continue
        for obj in vars(mod).values():
            if isinstance(obj, type) and issubclass(obj, ctypes.Structure) and obj.__module__ == mod.__name__:
                found[obj] = mod.__name__
    return found


def first_difference(cls, c):
    """None when cls has the C layout c, else what differs first (the struct size last)."""
    py = [(name, getattr(cls, name).offset, getattr(cls, name).size) for name, *_ in cls._fields_]
    for i, (p, m) in enumerate(zip(py, c["members"])):
        if tuple(p) != tuple(m):
            return "field %d: Python %s at offset %d, size %d; C %s at offset %d, size %d" % ((i,) + p + tuple(m))
    if len(py) != len(c["members"]):
        longer = py if len(py) > len(c["members"]) else c["members"]
        return "%d fields in Python, %d in C; first unmatched: %s" % (
            len(py), len(c["members"]), longer[min(len(py), len(c["members"]))][0])
    if ctypes.sizeof(cls) != c["size"]:
        return "sizeof %d in Python, %d in C" % (ctypes.sizeof(cls), c["size"])
    return None


def main():
    p = run(sys.argv[1])
    layouts = json.loads(p.stdout) if p.returncode == 0 else {}
    check(len(layouts) > 0, "struct-layout printed the C layouts (%d structs)" % len(layouts))
    found = mirrors()
    check(len(found) > 0, "the package defines ctypes structures (%d)" % len(found))
    used = set()
    for cls, mod in sorted(found.items(), key=lambda kv: (kv[1], kv[0].__name__)):
        where = "%s.%s" % (mod, cls.__name__)
        c_name = cls.__dict__.get("_c_name_")
        if not check(c_name in layouts, "%s names a C struct of struct-layout.c (_c_name_ %r)" % (where, c_name)):
            continue
        used.add(c_name)
        diff = first_difference(cls, layouts[c_name])
        check(diff is None, "%s has the layout of %s%s" % (where, c_name, ": " + diff if diff else ""))
    unused = sorted(set(layouts) - used)
    check(not unused, "every struct of struct-layout.c has a mirror%s" % (": not " + ", ".join(unused) if unused else ""))
    done()


main()
