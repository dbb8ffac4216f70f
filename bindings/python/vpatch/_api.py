"""The Python face of libvpatch: compile rules, load bundles, scan streams."""
from __future__ import annotations

import ctypes
import os
import threading
import warnings
from ctypes import byref, c_int, c_size_t, c_uint8, c_uint32, c_void_p, POINTER
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

from . import _ffi
from ._ffi import lib

__all__ = [
    "Error", "CompileError", "CompileWarning", "Diagnostic", "Rule", "Event", "Bundle", "Engine",
    "Stream", "compile", "compile_files", "library_version",
]

PathLike = Union[str, "os.PathLike[str]"]
BytesLike = Union[bytes, bytearray, memoryview]

# ----------------------------------------------------------------- names

def _cstr(value: Optional[bytes]) -> str:
    return value.decode("utf-8", "replace") if value else ""


_STATUS_BY_CODE: Dict[int, str] = {}
for _code in range(64):
    _n = _cstr(lib.vp_status_str(_code))
    if _n != "VP_E_UNKNOWN_STATUS":
        _STATUS_BY_CODE[_code] = _n
_CODE_BY_STATUS = {name: code for code, name in _STATUS_BY_CODE.items()}
_E_INVALID = _CODE_BY_STATUS["VP_E_INVALID"]
_E_COMPILE = _CODE_BY_STATUS["VP_E_COMPILE"]


def _status_name(code: int) -> str:
    return _STATUS_BY_CODE.get(code) or _cstr(lib.vp_status_str(code))


_ACTION = {v: _cstr(lib.vp_action_str(v)) for v in (1, 2)}
_VERDICT = {v: _cstr(lib.vp_verdict_str(v)) for v in (0, 1)}
_SEVERITY = {v: _cstr(lib.vp_severity_str(v)) for v in (1, 2, 3, 4)}
_DIRECTION = {v: _cstr(lib.vp_direction_str(v)) for v in (1, 2, 3)}
_MODE_BITS = ((1, _cstr(lib.vp_mode_str(1))), (2, _cstr(lib.vp_mode_str(2))))
_PROTO = {6: "tcp", 17: "udp"}
_PROTO_BY_NAME = {"tcp": 6, "udp": 17}
_STREAM_DIRECTION_BY_NAME = {"to_server": 1, "to_client": 2}
_DIAG_SEVERITY = {1: "error", 2: "warning"}
_DIAG_CODES = {
    1: "VP_D_IO", 2: "VP_D_YAML", 3: "VP_D_STRUCTURE", 4: "VP_D_MISSING",
    5: "VP_D_UNKNOWN_FIELD", 6: "VP_D_TYPE", 7: "VP_D_DUPLICATE_ID", 8: "VP_D_FORMAT",
    9: "VP_D_CONDITION", 10: "VP_D_REGEX", 11: "VP_D_TEST_FAILED", 12: "VP_D_MODES",
    13: "VP_D_UNSUPPORTED", 14: "VP_D_DUPLICATE_KEY", 15: "VP_D_LIMIT", 16: "VP_D_INTERNAL",
}


def library_version() -> str:
    """Version of the loaded libvpatch as "MAJOR.MINOR.PATCH"."""
    return _cstr(lib.vp_version())


# ----------------------------------------------------------------- errors

class Error(Exception):
    """A libvpatch call failed.

    Attributes:
        status: the stable status name, e.g. ``"VP_E_SIGNATURE"``.
        code: the numeric ``vp_status`` value.
        message: the library's explanation ("" when it gave none).
        offset: for bundles, the byte offset where loading failed, else None.
    """

    status: str
    code: int
    message: str
    offset: Optional[int]

    def __init__(self, status: Union[str, int], message: str = "", *,
                 offset: Optional[int] = None) -> None:
        if isinstance(status, int):
            self.code = status
            self.status = _status_name(status)
        else:
            self.status = status
            self.code = _CODE_BY_STATUS.get(status, -1)
        self.message = message
        self.offset = offset
        super().__init__(self.status, message)

    def __str__(self) -> str:
        text = "%s: %s" % (self.status, self.message) if self.message else self.status
        if self.offset is not None:
            text += " (at byte %d)" % self.offset
        return text


def _invalid(message: str) -> Error:
    return Error("VP_E_INVALID", message)


def _check(status: int, what: str) -> None:
    if status != 0:
        raise Error(status, what)


def _raise_with(status: int, err: c_void_p, what: str) -> None:
    """Raises Error for a failed call that filled a vp_error_t (frees it)."""
    message, offset = what, None
    if err.value:
        message = _cstr(lib.vp_error_message(err)) or what
        off = lib.vp_error_offset(err)
        offset = off if off >= 0 else None
        status = lib.vp_error_status(err) or status
        lib.vp_error_free(err)
        err.value = None
    raise Error(status, message, offset=offset)


# ----------------------------------------------------------------- records

@dataclass(frozen=True)
class Diagnostic:
    """One compiler diagnostic.

    Attributes:
        severity: ``"error"`` or ``"warning"``.
        code: stable code name, e.g. ``"VP_D_REGEX"`` (``vp_diag_code``).
        file: source name (the file path, or the ``name`` given to :func:`compile`);
            "" when not tied to a source.
        line, column: 1-based position; 0 when unknown.
        rule_id: id of the rule the problem is in; 0 outside a rule.
        message: the text without the ``FILE:LINE:COL:`` prefix.
    """

    severity: str
    code: str
    file: str
    line: int
    column: int
    rule_id: int
    message: str

    def __str__(self) -> str:
        """``FILE:LINE:COL: [warning: ]message``, as rulec prints it."""
        sev = "warning: " if self.severity == "warning" else ""
        if not self.file:
            return sev + self.message
        if self.line:
            return "%s:%d:%d: %s%s" % (self.file, self.line, self.column, sev, self.message)
        return "%s: %s%s" % (self.file, sev, self.message)


class CompileError(Error):
    """Rule sources have errors; no bundle was built.

    Attributes:
        diagnostics: every diagnostic of the build (errors and warnings), in the
            library's order (by source, then position).
        file, line, column: position of the first error (line/column are
            1-based, 0 when unknown).
    """

    diagnostics: List[Diagnostic]
    file: str
    line: int
    column: int

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        errors = [d for d in self.diagnostics if d.severity == "error"]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        self.file = first.file if first else ""
        self.line = first.line if first else 0
        self.column = first.column if first else 0
        super().__init__("VP_E_COMPILE", "\n".join(str(d) for d in self.diagnostics))

    @property
    def errors(self) -> List[Diagnostic]:
        """The diagnostics of severity ``"error"``."""
        return [d for d in self.diagnostics if d.severity == "error"]

    def __str__(self) -> str:
        n = len(self.errors)
        return "%d error%s in rule sources:\n%s" % (n, "" if n == 1 else "s", self.message)


class CompileWarning(UserWarning):
    """Issued (through :mod:`warnings`) for each warning of a successful build.

    Attributes:
        diagnostic: the :class:`Diagnostic`.
    """

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(str(diagnostic))
        self.diagnostic = diagnostic


@dataclass(frozen=True)
class Rule:
    """Metadata of one rule of a bundle.

    Attributes:
        id, name, description: as in the rule source ("" when no description).
        cve, references, tags: tuples of strings.
        severity: ``"low"``, ``"medium"``, ``"high"`` or ``"critical"``.
        cvss: the CVSS score, or None when the rule has none.
        modes: the modes that run the rule (``"performance"``, ``"security"``).
        action: ``"block"`` or ``"detect"``.
        proto: ``"tcp"`` or ``"udp"``.
        direction: ``"to_server"``, ``"to_client"`` or ``"any"``.
    """

    id: int
    name: str
    description: str
    cve: Tuple[str, ...]
    references: Tuple[str, ...]
    tags: Tuple[str, ...]
    severity: str
    cvss: Optional[float]
    modes: Tuple[str, ...]
    action: str
    proto: str
    direction: str


@dataclass(frozen=True)
class Event:
    """One detection on a stream or datagram.

    Attributes:
        rule_id: the rule that fired.
        offset: stream offset where the rule became true.
        action: the rule's action, ``"block"`` or ``"detect"``.
        verdict: ``"block"`` when this event blocks the stream, else ``"allow"``.
        name, cve, severity: the rule's metadata (see :class:`Rule`).
        direction: ``"to_server"`` or ``"to_client"``: the stream's direction.
    """

    rule_id: int
    offset: int
    action: str
    verdict: str
    name: str
    cve: Tuple[str, ...]
    severity: str
    direction: str


# ----------------------------------------------------------------- helpers

def _no_nul(value: bytes, what: str) -> bytes:
    if b"\0" in value:
        raise _invalid("%s contains a NUL byte: %r" % (what, value))
    return value


def _fspath(path: Any, what: str) -> bytes:
    if isinstance(path, (str, bytes)) or hasattr(path, "__fspath__"):
        return _no_nul(os.fsencode(path), what)
    raise TypeError("%s must be a str or os.PathLike, not %s" % (what, type(path).__name__))


def _buffer(data: Any) -> Tuple[Any, int]:
    """(argument for a `const void *` parameter, length) without copying where possible."""
    if isinstance(data, bytes):
        return data, len(data)
    if isinstance(data, str):
        raise TypeError("data must be bytes-like, not str (encode it first)")
    try:
        view = memoryview(data)
    except TypeError:
        raise TypeError("data must be bytes-like, not %s" % type(data).__name__) from None
    if not view.contiguous:
        return _buffer(view.tobytes())
    n = view.nbytes
    if n == 0:
        return b"", 0
    if view.readonly:
        return view.tobytes(), n
    return (ctypes.c_char * n).from_buffer(view), n


def _uint(value: Any, maximum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if value < 0 or value > maximum:
        raise _invalid("%s must be 0..%d, got %d" % (what, maximum, value))
    return value


def _proto(proto: Any) -> int:
    if isinstance(proto, str) and proto.lower() in _PROTO_BY_NAME:
        return _PROTO_BY_NAME[proto.lower()]
    raise _invalid("proto must be 'tcp' or 'udp', got %r" % (proto,))


def _direction(direction: Any) -> int:
    if isinstance(direction, str) and direction in _STREAM_DIRECTION_BY_NAME:
        return _STREAM_DIRECTION_BY_NAME[direction]
    raise _invalid("direction must be 'to_server' or 'to_client', got %r" % (direction,))


class _Handle:
    """Owns one C object and frees it exactly once; `keep` pins what it needs."""

    __slots__ = ("ptr", "_free", "keep")

    def __init__(self, ptr: Optional[int], free: Any, keep: Any = None) -> None:
        self.ptr = ptr
        self._free = free
        self.keep = keep

    def release(self) -> None:
        ptr, self.ptr = self.ptr, None
        if ptr:
            self._free(ptr)
        self.keep = None

    def __del__(self) -> None:
        try:
            self.release()
        except Exception:  # interpreter shutdown
            pass


# ----------------------------------------------------------------- compiler

def _collect_diagnostics(comp: c_void_p) -> List[Diagnostic]:
    out = []
    for i in range(lib.vp_compiler_diag_count(comp)):
        d = _ffi.Diagnostic()
        d.size = ctypes.sizeof(d)
        _check(lib.vp_compiler_diag_at(comp, i, byref(d)), "vp_compiler_diag_at")
        out.append(Diagnostic(
            severity=_DIAG_SEVERITY.get(d.severity, "error"),
            code=_DIAG_CODES.get(d.code, "VP_D_%d" % d.code),
            file=os.fsdecode(d.file) if d.file else "",
            line=d.line, column=d.column, rule_id=d.rule_id,
            message=_cstr(d.message)))
    return out


def _build(add_sources: Any, serial: Optional[int], run_tests: bool) -> bytes:
    comp = c_void_p()
    _check(lib.vp_compiler_create(byref(comp)), "vp_compiler_create")
    try:
        add_sources(comp)
        if serial is not None:
            _check(lib.vp_compiler_set_serial(comp, _uint(serial, 2**64 - 1, "serial")),
                   "vp_compiler_set_serial")
        _check(lib.vp_compiler_set_run_tests(comp, 1 if run_tests else 0),
               "vp_compiler_set_run_tests")
        data = POINTER(c_uint8)()
        size = c_size_t()
        st = lib.vp_compiler_build(comp, byref(data), byref(size))
        diags = _collect_diagnostics(comp)
        if st == _E_COMPILE:
            raise CompileError(diags)
        _check(st, "vp_compiler_build")
        try:
            result = ctypes.string_at(data, size.value)
        finally:
            lib.vp_compiler_bundle_free(data)
    finally:
        lib.vp_compiler_free(comp)
    for d in diags:
        if d.severity == "warning":
            warnings.warn(CompileWarning(d), stacklevel=3)
    return result


def compile(yaml: Union[str, bytes], name: str = "<memory>", *, serial: Optional[int] = None,
            run_tests: bool = True) -> bytes:
    """Compiles one YAML rule source held in memory into bundle bytes.

    Args:
        yaml: the rule source (``str`` is encoded as UTF-8).
        name: source name used in diagnostics.
        serial: bundle serial (default: the current UNIX time).
        run_tests: run the rules' embedded tests (default True).

    Returns:
        The bundle, ready for :meth:`Bundle.load` or to be written to a file.

    Raises:
        CompileError: the source has errors (all of them in ``.diagnostics``).
        Error: bad arguments or out of memory.

    Warnings of a successful build are issued as :class:`CompileWarning`.
    """
    if isinstance(yaml, str):
        src = yaml.encode("utf-8")
    elif isinstance(yaml, (bytes, bytearray, memoryview)):
        src = bytes(yaml)
    else:
        raise TypeError("yaml must be str or bytes, not %s" % type(yaml).__name__)
    if not isinstance(name, str):
        raise TypeError("name must be a str, not %s" % type(name).__name__)
    bname = _no_nul(os.fsencode(name), "name")

    def add(comp: c_void_p) -> None:
        _check(lib.vp_compiler_add_memory(comp, bname, src, len(src)), "vp_compiler_add_memory")

    return _build(add, serial, run_tests)


def compile_files(paths: Union[PathLike, Iterable[PathLike]], *, serial: Optional[int] = None,
                  run_tests: bool = True) -> bytes:
    """Compiles YAML rule files into one bundle.

    Args:
        paths: the source files (a single path is accepted too).  A file that
            cannot be read is a diagnostic (``VP_D_IO``), like any other error.
        serial, run_tests: as for :func:`compile`.

    Returns:
        The bundle bytes.

    Raises:
        CompileError: the sources have errors.
        Error: bad arguments or out of memory.
    """
    if isinstance(paths, (str, bytes)) or hasattr(paths, "__fspath__"):
        paths = [paths]  # type: ignore[list-item]
    encoded = [_fspath(p, "path") for p in paths]

    def add(comp: c_void_p) -> None:
        for p in encoded:
            _check(lib.vp_compiler_add_file(comp, p), "vp_compiler_add_file")

    return _build(add, serial, run_tests)


# ----------------------------------------------------------------- bundles

def _rule_from_info(info: _ffi.RuleInfo) -> Rule:
    def strings(arr: Any, n: int) -> Tuple[str, ...]:
        return tuple(_cstr(arr[i]) for i in range(n))

    return Rule(
        id=info.id,
        name=_cstr(info.name),
        description=_cstr(info.description),
        cve=strings(info.cves, info.cve_count),
        references=strings(info.references, info.reference_count),
        tags=strings(info.tags, info.tag_count),
        severity=_SEVERITY.get(info.severity, "unknown"),
        cvss=None if info.cvss < 0 else info.cvss,
        modes=tuple(name for bit, name in _MODE_BITS if info.modes & (1 << bit)),
        action=_ACTION.get(info.action, "unknown"),
        proto=_PROTO.get(info.proto, "unknown"),
        direction=_DIRECTION.get(info.direction, "unknown"),
    )


class Bundle:
    """A loaded and validated rule bundle (immutable, shareable by threads).

    Make one with :meth:`Bundle.load`.
    """

    def __init__(self, _handle: _Handle) -> None:
        if not isinstance(_handle, _Handle):
            raise TypeError("use Bundle.load() to make a Bundle")
        self._h = _handle
        self._rules: Optional[Tuple[Rule, ...]] = None
        self._by_id: Optional[Dict[int, Rule]] = None

    @classmethod
    def load(cls, source: Union[BytesLike, PathLike], trusted_keys: Iterable[Any] = (),
             min_serial: Optional[int] = None, allow_recompile: bool = True) -> "Bundle":
        """Loads and fully validates a bundle.

        Args:
            source: bundle data (``bytes``, ``bytearray``, ``memoryview``) or the
                path of a bundle file (``str`` or ``os.PathLike``).
            trusted_keys: Ed25519 public keys, each 32 raw bytes or the path of a
                ``.pub`` file written by ``rulec keygen``.  With any key the
                bundle must be signed by one of them (else ``VP_E_SIGNATURE``).
            min_serial: refuse bundles with a lower serial (``VP_E_ROLLBACK``).
            allow_recompile: False refuses a bundle whose shipped databases do not
                fit this system instead of recompiling its patterns.

        Raises:
            Error: the bundle is refused; ``.status`` says why and ``.offset``
                where (for malformed data).  A library without load options
                (no ``vp_load_options_*``) raises ``VP_E_INVALID`` when keys,
                a minimum serial or ``allow_recompile=False`` are asked for.
        """
        if isinstance(source, str) or hasattr(source, "__fspath__"):
            path: Optional[bytes] = _fspath(source, "path")
            data: Any = None
            n = 0
        else:
            path = None
            data, n = _buffer(source)
        if isinstance(trusted_keys, (bytes, bytearray, memoryview, str)) or \
                hasattr(trusted_keys, "__fspath__"):
            keys: List[Any] = [trusted_keys]  # one key given on its own
        else:
            keys = list(trusted_keys)
        if min_serial is not None:
            min_serial = _uint(min_serial, 2**64 - 1, "min_serial")
        wants_options = bool(keys) or min_serial is not None or not allow_recompile
        out = c_void_p()
        err = c_void_p()
        if not _ffi.HAS_LOAD_OPTIONS:
            if wants_options:
                raise _invalid("this libvpatch (%s) has no load options (vp_load_options_*): "
                               "trusted keys, min_serial and allow_recompile=False are "
                               "unavailable" % _ffi.library_path)
            if path is not None:
                st = lib.vp_bundle_load_file(path, byref(out), byref(err))
            else:
                st = lib.vp_bundle_load_memory(data, n, byref(out), byref(err))
            if st != 0:
                _raise_with(st, err, "bundle refused")
            return cls(_Handle(out.value, lib.vp_bundle_free))

        opts = c_void_p()
        _check(lib.vp_load_options_create(byref(opts)), "vp_load_options_create")
        try:
            for key in keys:
                if isinstance(key, (bytes, bytearray, memoryview)):
                    raw = bytes(key)
                    if len(raw) != 32:
                        raise _invalid("a trusted key must be 32 bytes, got %d" % len(raw))
                    _check(lib.vp_load_options_add_trusted_key(
                        opts, (c_uint8 * 32).from_buffer_copy(raw)),
                        "vp_load_options_add_trusted_key")
                else:
                    kpath = _fspath(key, "trusted key")
                    st = lib.vp_load_options_add_trusted_key_file(opts, kpath, byref(err))
                    if st != 0:
                        _raise_with(st, err, "cannot read key %s" % os.fsdecode(kpath))
            if min_serial is not None:
                _check(lib.vp_load_options_set_min_serial(opts, min_serial),
                       "vp_load_options_set_min_serial")
            _check(lib.vp_load_options_set_allow_recompile(opts, 1 if allow_recompile else 0),
                   "vp_load_options_set_allow_recompile")
            if path is not None:
                st = lib.vp_bundle_load_file_ex(path, opts, byref(out), byref(err))
            else:
                st = lib.vp_bundle_load_memory_ex(data, n, opts, byref(out), byref(err))
            if st != 0:
                _raise_with(st, err, "bundle refused")
        finally:
            lib.vp_load_options_free(opts)
        return cls(_Handle(out.value, lib.vp_bundle_free))

    @property
    def serial(self) -> int:
        """The bundle's serial (grows with each release of a rule set)."""
        return int(lib.vp_bundle_serial(self._h.ptr))

    @property
    def ruleset(self) -> str:
        """Ruleset name from the sources ("" when none)."""
        return _cstr(lib.vp_bundle_ruleset(self._h.ptr))

    @property
    def rules(self) -> Tuple[Rule, ...]:
        """Metadata of every rule, in bundle order."""
        if self._rules is None:
            rules = []
            for i in range(lib.vp_bundle_rule_count(self._h.ptr)):
                info = _ffi.RuleInfo()
                info.size = ctypes.sizeof(info)
                _check(lib.vp_bundle_rule_at(self._h.ptr, i, byref(info)), "vp_bundle_rule_at")
                rules.append(_rule_from_info(info))
            self._by_id = {r.id: r for r in rules}
            self._rules = tuple(rules)
        return self._rules

    def rule(self, rule_id: int) -> Rule:
        """Metadata of one rule; Error ``VP_E_UNKNOWN_RULE`` when absent."""
        if self._by_id is None:
            self.rules
        assert self._by_id is not None
        try:
            return self._by_id[rule_id]
        except (KeyError, TypeError):
            raise Error("VP_E_UNKNOWN_RULE", "no rule %r in the bundle" % (rule_id,)) from None

    def __len__(self) -> int:
        return int(lib.vp_bundle_rule_count(self._h.ptr))

    def __repr__(self) -> str:
        return "<vpatch.Bundle ruleset=%r serial=%d rules=%d>" % (self.ruleset, self.serial,
                                                                  len(self))


# ----------------------------------------------------------------- events

# Events arrive through one C callback; ctx names the list that collects them.
# The callback runs synchronously inside scan/gap/close (holding the GIL it
# re-acquired) and only appends raw tuples: conversion happens afterwards.
_sinks: Dict[int, List[Tuple[int, int, int, int, int]]] = {}


def _on_event(ev: Any, ctx: Optional[int]) -> None:
    e = ev[0]
    _sinks[ctx].append((e.rule_id, e.offset, e.action, e.verdict, e.direction))  # type: ignore


_ON_EVENT = _ffi.EVENT_CB(_on_event)


# ----------------------------------------------------------------- engines

class _Scratch:
    """A vp_scratch_t owned by one thread; keeps the engine handle alive."""

    __slots__ = ("ptr", "_engine")

    def __init__(self, engine: _Handle) -> None:
        p = c_void_p()
        _check(lib.vp_scratch_alloc(engine.ptr, byref(p)), "vp_scratch_alloc")
        self.ptr = p.value
        self._engine = engine  # scratches are freed before their engine

    def __del__(self) -> None:
        try:
            ptr, self.ptr = self.ptr, None
            if ptr:
                lib.vp_scratch_free(ptr)
        except Exception:
            pass


class Engine:
    """A bundle plus a policy: mode, enabled/disabled rules, detect-only.

    Engines are immutable and may be shared by any number of threads: each
    Python thread gets its own scratch (working memory) behind the scenes,
    and the GIL is released while the library scans.

    Args:
        bundle: a :class:`Bundle` (bundle bytes or a bundle path are loaded
            with :meth:`Bundle.load` defaults).
        mode: ``"security"`` (default) or ``"performance"``.
        enable: rule ids to run on top of the mode.
        disable: rule ids not to run (wins over the mode and over ``enable``).
        detect_only: report events but never block.

    Raises:
        Error: ``VP_E_UNKNOWN_RULE`` when enable/disable name a rule the bundle
            lacks, ``VP_E_INVALID`` for a bad mode or id.
    """

    def __init__(self, bundle: Union[Bundle, BytesLike, PathLike], mode: str = "security",
                 enable: Iterable[int] = (), disable: Iterable[int] = (),
                 detect_only: bool = False) -> None:
        if not isinstance(bundle, Bundle):
            bundle = Bundle.load(bundle)
        self._bundle = bundle
        cmode = c_int()
        if not isinstance(mode, str) or lib.vp_mode_parse(mode.encode(), byref(cmode)) != 0:
            raise _invalid("mode must be 'performance' or 'security', got %r" % (mode,))
        self._mode = mode
        self._detect_only = bool(detect_only)
        en = [_uint(i, 0xFFFFFFFF, "rule id") for i in enable]
        dis = [_uint(i, 0xFFFFFFFF, "rule id") for i in disable]
        opts = c_void_p()
        _check(lib.vp_engine_options_create(byref(opts)), "vp_engine_options_create")
        out, err = c_void_p(), c_void_p()
        try:
            _check(lib.vp_engine_options_set_mode(opts, cmode), "vp_engine_options_set_mode")
            if en:
                _check(lib.vp_engine_options_enable(opts, (c_uint32 * len(en))(*en), len(en)),
                       "vp_engine_options_enable")
            if dis:
                _check(lib.vp_engine_options_disable(opts, (c_uint32 * len(dis))(*dis), len(dis)),
                       "vp_engine_options_disable")
            _check(lib.vp_engine_options_set_detect_only(opts, 1 if detect_only else 0),
                   "vp_engine_options_set_detect_only")
            st = lib.vp_engine_create(bundle._h.ptr, opts, byref(out), byref(err))
            if st != 0:
                _raise_with(st, err, "vp_engine_create")
        finally:
            lib.vp_engine_options_free(opts)
        self._h = _Handle(out.value, lib.vp_engine_free, keep=bundle._h)
        self._local = threading.local()
        bundle.rules  # fill the metadata cache before threads race for it
        self._by_id = bundle._by_id or {}

    def _scratch(self) -> int:
        s = getattr(self._local, "s", None)
        if s is None:
            s = self._local.s = _Scratch(self._h)
        return s.ptr  # type: ignore[return-value]

    def _event(self, raw: Tuple[int, int, int, int, int]) -> Event:
        rule_id, offset, action, verdict, direction = raw
        r = self._by_id.get(rule_id)
        return Event(rule_id=rule_id, offset=offset, action=_ACTION.get(action, "unknown"),
                     verdict=_VERDICT.get(verdict, "unknown"),
                     name=r.name if r else "", cve=r.cve if r else (),
                     severity=r.severity if r else "unknown",
                     direction=_DIRECTION.get(direction, "unknown"))

    @property
    def bundle(self) -> Bundle:
        """The bundle the engine runs."""
        return self._bundle

    @property
    def mode(self) -> str:
        return self._mode

    @property
    def detect_only(self) -> bool:
        return self._detect_only

    def rules(self) -> List[Rule]:
        """Metadata of the rules this engine runs (mode and overrides applied)."""
        return [r for r in self._bundle.rules if lib.vp_engine_rule_enabled(self._h.ptr, r.id)]

    def rule_enabled(self, rule_id: int) -> bool:
        """Whether the rule runs in this engine."""
        return bool(lib.vp_engine_rule_enabled(self._h.ptr, _uint(rule_id, 0xFFFFFFFF, "rule id")))

    @property
    def enabled_count(self) -> int:
        """How many rules run in this engine."""
        return int(lib.vp_engine_enabled_count(self._h.ptr))

    @property
    def stream_size(self) -> int:
        """Bytes of memory one open stream costs."""
        return int(lib.vp_engine_stream_size(self._h.ptr))

    def stream(self, proto: str, port: int, direction: str = "to_server") -> "Stream":
        """Opens a stream: one direction of one flow.

        Args:
            proto: ``"tcp"`` or ``"udp"``.
            port: the server-side port of the flow (0..65535).
            direction: ``"to_server"`` (client's bytes) or ``"to_client"``.

        Use it as a context manager; leaving the ``with`` block closes the
        stream (deciding end-of-stream conditions; their events are in
        :attr:`Stream.events`) and frees it.
        """
        return Stream(self, proto, port, direction)

    def scan_datagram(self, proto: str, port: int, direction: str, data: BytesLike) -> List[Event]:
        """Scans one datagram as a stream of its own (open + scan + close).

        Returns the events; the datagram's verdict is ``"block"`` exactly when
        one of them has ``verdict == "block"``.
        """
        cproto, cdir = _proto(proto), _direction(direction)
        port = _uint(port, 65535, "port")
        buf, n = _buffer(data)
        sink: List[Tuple[int, int, int, int, int]] = []
        key = id(sink)
        _sinks[key] = sink
        verdict = c_int()
        try:
            st = lib.vp_scan_datagram(self._h.ptr, cproto, port, cdir, buf, n, self._scratch(),
                                      _ON_EVENT, key, byref(verdict))
        finally:
            del _sinks[key]
        _check(st, "vp_scan_datagram")
        return [self._event(r) for r in sink]

    def __repr__(self) -> str:
        return "<vpatch.Engine mode=%s detect_only=%s rules=%d>" % (
            self._mode, self._detect_only, self.enabled_count)


# ----------------------------------------------------------------- streams

class Stream:
    """One direction of one flow; make it with :meth:`Engine.stream`.

    A stream may be used from several threads (calls are serialised by a
    lock); the bytes must of course be handed over in stream order.
    """

    def __init__(self, engine: Engine, proto: str, port: int, direction: str) -> None:
        cproto, cdir = _proto(proto), _direction(direction)
        port = _uint(port, 65535, "port")
        self._engine = engine
        self._pending: List[Tuple[int, int, int, int, int]] = []
        self._key = id(self._pending)
        self._events: List[Event] = []
        self._lock = threading.Lock()
        self._closed = False
        self._final: Optional[Tuple[int, int]] = None
        self.proto, self.port, self.direction = proto.lower(), port, direction
        out = c_void_p()
        _sinks[self._key] = self._pending
        st = lib.vp_stream_open(engine._h.ptr, cproto, port, cdir, _ON_EVENT, self._key,
                                byref(out))
        if st != 0:
            del _sinks[self._key]
            raise Error(st, "vp_stream_open")
        self._ptr: Optional[int] = out.value

    def _drain(self) -> List[Event]:
        ev = self._engine._event
        new = [ev(r) for r in self._pending]
        self._pending.clear()
        self._events.extend(new)
        return new

    def _gone(self) -> Error:
        return Error("VP_E_STREAM_CLOSED", "the stream was freed")

    def scan(self, data: BytesLike) -> List[Event]:
        """Scans the next bytes of the stream; returns the events they caused."""
        buf, n = _buffer(data)
        with self._lock:
            if self._ptr is None:
                raise self._gone()
            st = lib.vp_stream_scan(self._ptr, buf, n, self._engine._scratch())
            new = self._drain() if self._pending else []
        if st != 0:
            raise Error(st, "vp_stream_scan")
        return new

    def gap(self, length: int) -> List[Event]:
        """Reports ``length`` lost bytes: offsets advance, nothing matches across."""
        length = _uint(length, 2**64 - 1, "gap length")
        with self._lock:
            if self._ptr is None:
                raise self._gone()
            st = lib.vp_stream_gap(self._ptr, length, self._engine._scratch())
            new = self._drain() if self._pending else []
        if st != 0:
            raise Error(st, "vp_stream_gap")
        return new

    def close(self) -> List[Event]:
        """Ends the stream: decides end-of-stream conditions (negations) and
        returns their events.  Afterwards only verdict/offset/events remain."""
        with self._lock:
            if self._ptr is None:
                raise self._gone()
            st = lib.vp_stream_close(self._ptr, self._engine._scratch())
            new = self._drain() if self._pending else []
            if st == 0:
                self._closed = True
        if st != 0:
            raise Error(st, "vp_stream_close")
        return new

    def free(self) -> None:
        """Releases the C stream (an unclosed stream is discarded without
        close events).  verdict, offset and events stay readable."""
        with self._lock:
            ptr, self._ptr = self._ptr, None
            if ptr:
                self._final = (lib.vp_stream_verdict(ptr), lib.vp_stream_offset(ptr))
                lib.vp_stream_free(ptr)
                _sinks.pop(self._key, None)

    @property
    def verdict(self) -> str:
        """``"block"`` once an event blocked the stream, else ``"allow"``."""
        ptr = self._ptr
        v = lib.vp_stream_verdict(ptr) if ptr else (self._final[0] if self._final else 0)
        return _VERDICT.get(v, "unknown")

    @property
    def offset(self) -> int:
        """Bytes seen so far, gaps included."""
        ptr = self._ptr
        return int(lib.vp_stream_offset(ptr)) if ptr else (self._final[1] if self._final else 0)

    @property
    def closed(self) -> bool:
        """True after :meth:`close` (or after leaving the ``with`` block)."""
        return self._closed

    @property
    def events(self) -> List[Event]:
        """Every event of this stream so far, close events included."""
        return list(self._events)

    def __enter__(self) -> "Stream":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        try:
            if exc_type is None and self._ptr is not None and not self._closed:
                self.close()
        finally:
            self.free()

    def __del__(self) -> None:
        try:
            self.free()
        except Exception:
            pass

    def __repr__(self) -> str:
        return "<vpatch.Stream %s/%d %s offset=%d verdict=%s%s>" % (
            self.proto, self.port, self.direction, self.offset, self.verdict,
            " closed" if self._closed else "")
