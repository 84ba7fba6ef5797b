"""Engine sub-commands of the ``lstheory`` CLI, discovered by module name.

A module ``NAME.py`` here defines ``add_parser(subparsers)`` — which calls
``subparsers.add_parser("NAME", help=...)`` and adds its arguments — and ``run(args) -> int``
(the exit code). Raise :class:`lstheory.InvalidArgument` for bad input: the CLI prints it as one
line and exits 2. Keep the module thin: parse, call the library's public functions, render.

Shared services (``docs/design.md``): argument checks naming the flag from
:mod:`lstheory._validate`, progress on stderr from :class:`lstheory._progress.Progress`
(``Progress(enabled=not args.quiet)``), files through :mod:`lstheory._io`. A ``--threads``
flag is honoured through :func:`lstheory._runtime.limit_threads` around the work (never
``torch.set_num_threads``; a test enforces it). Work worth calling from a notebook lives in the
engine as a job function (``surface.run_job``, ``mds.embed_store``, ``paths`` pair runs), so
the command only parses and prints.
"""
