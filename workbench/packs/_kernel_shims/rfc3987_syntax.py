"""Makes ``rfc3987_syntax`` look absent inside pack kernels (see workbench.packs.execute).

jsonschema (imported by altair) loads this optional package when installed, and it builds
a Lark grammar on import: ~2.6 s of CPU per kernel on the 2-core dev machine, for IRI
format checks nothing in a pack makes. jsonschema handles the ImportError by skipping
those checks, exactly as when the package is not installed.
"""

raise ImportError("rfc3987_syntax is skipped in workbench pack kernels")
