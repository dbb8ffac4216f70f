"""ctypes declarations for libvpatch-compile (runtime API + compiler API).

Only ``libvpatch-compile.so`` is loaded: it is a superset of the runtime
library, so the process carries one Hyperscan (the full ``libhs``) and never
``libhs`` and ``libhs_runtime`` side by side.

Lookup order:

1. the directory named by the ``VPATCH_LIBRARY_DIR`` environment variable;
2. the normal loader path (``libvpatch-compile.so.0``: installed libraries,
   ``LD_LIBRARY_PATH``, ``ld.so.cache``);
3. whatever :func:`ctypes.util.find_library` finds for ``vpatch-compile``.

The library is opened with :class:`ctypes.CDLL`, so the GIL is released during
every foreign call (scans run in parallel across Python threads).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_int, c_size_t,
                    c_uint, c_uint8, c_uint16, c_uint32, c_uint64, c_int64, c_void_p)
from typing import Any, Dict, List, Tuple

__all__ = ["lib", "library_path", "HAS_LOAD_OPTIONS", "EVENT_CB", "RuleInfo", "Diagnostic",
           "BundleStats", "Event"]

_SONAME = "libvpatch-compile.so.0"
if sys.platform == "darwin":  # pragma: no cover - not a supported platform yet
    _SONAME = "libvpatch-compile.0.dylib"


def _candidates() -> List[str]:
    names: List[str] = []
    env_dir = os.environ.get("VPATCH_LIBRARY_DIR")
    if env_dir:
        for base in (_SONAME, "libvpatch-compile.so", "libvpatch-compile.dylib"):
            path = os.path.join(env_dir, base)
            if os.path.exists(path):
                names.append(path)
    names.append(_SONAME)
    found = ctypes.util.find_library("vpatch-compile")
    if found and found not in names:
        names.append(found)
    return names


def _load() -> "tuple[ctypes.CDLL, str]":
    tried = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name), name
        except OSError as exc:
            tried.append("%s (%s)" % (name, exc))
    raise ImportError(
        "vpatch: cannot load libvpatch-compile; tried: " + "; ".join(tried) +
        ". Install libvpatch, add its directory to LD_LIBRARY_PATH or set "
        "VPATCH_LIBRARY_DIR to the directory holding libvpatch-compile.so.0.")


lib, library_path = _load()

# enums are plain C ints on every ABI libvpatch supports
_enum = c_int
_status = c_int


class RuleInfo(Structure):
    """vp_rule_info_t"""
    _fields_ = [
        ("size", c_size_t),
        ("id", c_uint32),
        ("name", c_char_p),
        ("description", c_char_p),
        ("cves", POINTER(c_char_p)),
        ("cve_count", c_size_t),
        ("references", POINTER(c_char_p)),
        ("reference_count", c_size_t),
        ("tags", POINTER(c_char_p)),
        ("tag_count", c_size_t),
        ("severity", _enum),
        ("cvss", c_double),
        ("modes", c_uint),
        ("action", _enum),
        ("proto", _enum),
        ("direction", _enum),
        ("condition_count", c_size_t),
    ]


class BundleStats(Structure):
    """vp_bundle_stats_t"""
    _fields_ = [
        ("size", c_size_t),
        ("format_major", c_uint),
        ("format_minor", c_uint),
        ("file_size", c_uint64),
        ("section_count", c_size_t),
        ("rule_count", c_size_t),
        ("condition_count", c_size_t),
        ("pattern_count", c_size_t),
        ("database_bytes", c_size_t),
        ("is_signed", c_int),
    ]


class Event(Structure):
    """vp_event_t"""
    _fields_ = [
        ("rule_id", c_uint32),
        ("offset", c_uint64),
        ("action", _enum),
        ("verdict", _enum),
        ("direction", _enum),
    ]


class Diagnostic(Structure):
    """vp_diagnostic_t"""
    _fields_ = [
        ("size", c_size_t),
        ("severity", _enum),
        ("code", _enum),
        ("file", c_char_p),
        ("line", c_uint32),
        ("column", c_uint32),
        ("rule_id", c_uint32),
        ("message", c_char_p),
    ]


EVENT_CB = CFUNCTYPE(None, POINTER(Event), c_void_p)

_P = c_void_p
_PP = POINTER(c_void_p)

_PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    # status, version, enums
    "vp_status_str": (c_char_p, [_status]),
    "vp_version": (c_char_p, []),
    "vp_version_number": (c_uint, []),
    "vp_error_message": (c_char_p, [_P]),
    "vp_error_status": (_status, [_P]),
    "vp_error_offset": (c_int64, [_P]),
    "vp_error_free": (None, [_P]),
    "vp_mode_str": (c_char_p, [_enum]),
    "vp_action_str": (c_char_p, [_enum]),
    "vp_verdict_str": (c_char_p, [_enum]),
    "vp_severity_str": (c_char_p, [_enum]),
    "vp_direction_str": (c_char_p, [_enum]),
    "vp_mode_parse": (_status, [c_char_p, POINTER(c_int)]),
    # bundles
    "vp_bundle_load_file": (_status, [c_char_p, _PP, _PP]),
    "vp_bundle_load_memory": (_status, [c_void_p, c_size_t, _PP, _PP]),
    "vp_bundle_free": (None, [_P]),
    "vp_bundle_serial": (c_uint64, [_P]),
    "vp_bundle_ruleset": (c_char_p, [_P]),
    "vp_bundle_rule_count": (c_size_t, [_P]),
    "vp_bundle_stats": (_status, [_P, POINTER(BundleStats)]),
    "vp_bundle_rule_at": (_status, [_P, c_size_t, POINTER(RuleInfo)]),
    "vp_bundle_rule_by_id": (_status, [_P, c_uint32, POINTER(RuleInfo)]),
    # engines
    "vp_engine_options_create": (_status, [_PP]),
    "vp_engine_options_free": (None, [_P]),
    "vp_engine_options_set_mode": (_status, [_P, _enum]),
    "vp_engine_options_enable": (_status, [_P, POINTER(c_uint32), c_size_t]),
    "vp_engine_options_disable": (_status, [_P, POINTER(c_uint32), c_size_t]),
    "vp_engine_options_set_detect_only": (_status, [_P, c_int]),
    "vp_engine_create": (_status, [_P, _P, _PP, _PP]),
    "vp_engine_free": (None, [_P]),
    "vp_engine_rule_enabled": (c_int, [_P, c_uint32]),
    "vp_engine_enabled_count": (c_size_t, [_P]),
    "vp_engine_bundle": (_P, [_P]),
    "vp_engine_stream_size": (c_size_t, [_P]),
    # scratch
    "vp_scratch_alloc": (_status, [_P, _PP]),
    "vp_scratch_reserve": (_status, [_P, _P]),
    "vp_scratch_free": (None, [_P]),
    # streams
    "vp_stream_open": (_status, [_P, _enum, c_uint16, _enum, EVENT_CB, c_void_p, _PP]),
    "vp_stream_scan": (_status, [_P, c_void_p, c_size_t, _P]),
    "vp_stream_gap": (_status, [_P, c_uint64, _P]),
    "vp_stream_close": (_status, [_P, _P]),
    "vp_stream_verdict": (_enum, [_P]),
    "vp_stream_offset": (c_uint64, [_P]),
    "vp_stream_free": (None, [_P]),
    "vp_scan_datagram": (_status, [_P, _enum, c_uint16, _enum, c_void_p, c_size_t, _P, EVENT_CB,
                                   c_void_p, POINTER(c_int)]),
    # compiler
    "vp_compiler_create": (_status, [_PP]),
    "vp_compiler_free": (None, [_P]),
    "vp_compiler_add_file": (_status, [_P, c_char_p]),
    "vp_compiler_add_memory": (_status, [_P, c_char_p, c_void_p, c_size_t]),
    "vp_compiler_set_serial": (_status, [_P, c_uint64]),
    "vp_compiler_set_run_tests": (_status, [_P, c_int]),
    "vp_compiler_build": (_status, [_P, POINTER(POINTER(c_uint8)), POINTER(c_size_t)]),
    "vp_compiler_bundle_free": (None, [POINTER(c_uint8)]),
    "vp_compiler_diag_count": (c_size_t, [_P]),
    "vp_compiler_error_count": (c_size_t, [_P]),
    "vp_compiler_diag_at": (_status, [_P, c_size_t, POINTER(Diagnostic)]),
    "vp_compiler_diag_format": (c_size_t, [_P, c_size_t, c_char_p, c_size_t]),
}

# Declared in vpatch.h; older builds of the library may lack them, in which
# case Bundle.load can only use the plain loaders (see HAS_LOAD_OPTIONS).
_OPTIONAL_PROTOTYPES: Dict[str, Tuple[Any, List[Any]]] = {
    "vp_load_options_create": (_status, [_PP]),
    "vp_load_options_free": (None, [_P]),
    "vp_load_options_add_trusted_key": (_status, [_P, POINTER(c_uint8)]),
    "vp_load_options_add_trusted_key_file": (_status, [_P, c_char_p, _PP]),
    "vp_load_options_set_min_serial": (_status, [_P, c_uint64]),
    "vp_load_options_set_allow_recompile": (_status, [_P, c_int]),
    "vp_bundle_load_file_ex": (_status, [c_char_p, _P, _PP, _PP]),
    "vp_bundle_load_memory_ex": (_status, [c_void_p, c_size_t, _P, _PP, _PP]),
}


def _declare(name: str, restype: Any, argtypes: List[Any]) -> None:
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes


for _name, (_res, _args) in _PROTOTYPES.items():
    _declare(_name, _res, _args)

HAS_LOAD_OPTIONS = all(hasattr(lib, n) for n in _OPTIONAL_PROTOTYPES)
"""True when the library exports vp_load_options_* and vp_bundle_load_*_ex."""
if HAS_LOAD_OPTIONS:
    for _name, (_res, _args) in _OPTIONAL_PROTOTYPES.items():
        _declare(_name, _res, _args)
