"""vpatch — Python binding of libvpatch, the Hyperscan-based virtual-patching engine.

Compile YAML rules, load bundles and scan streams::

    import vpatch

    bundle_bytes = vpatch.compile(open("rules.yaml").read(), name="rules.yaml")
    engine = vpatch.Engine(vpatch.Bundle.load(bundle_bytes), mode="security")
    with engine.stream("tcp", 80, "to_server") as stream:
        for event in stream.scan(b"GET /?q=${jndi:ldap://x/a} HTTP/1.1\\r\\n\\r\\n"):
            print(event.rule_id, event.name, event.offset, event.verdict)
        stream.close()

The package loads ``libvpatch-compile`` through ctypes, from the directory in
``VPATCH_LIBRARY_DIR`` or else from the normal loader path.  Failures raise
:class:`vpatch.Error` (``.status`` is the stable status name); rule sources
with errors raise :class:`vpatch.CompileError` carrying every diagnostic.
"""
from ._api import (Bundle, CompileError, CompileWarning, Diagnostic, Engine, Error, Event, Rule,
                   Stream, compile, compile_files, library_version)

__version__ = "0.1.0"

__all__ = [
    "Bundle", "CompileError", "CompileWarning", "Diagnostic", "Engine", "Error", "Event", "Rule",
    "Stream", "compile", "compile_files", "library_version", "__version__",
]
