"""Engine sub-commands of the ``lstheory`` CLI, discovered by module name.

A module ``NAME.py`` here defines ``add_parser(subparsers)`` — which calls
``subparsers.add_parser("NAME", help=...)`` and adds its arguments — and ``run(args) -> int``
(the exit code). Raise :class:`lstheory.InvalidArgument` for bad input: the CLI prints it as one
line and exits 2. Keep the module thin: parse, call the library's public functions, render.
"""
