"""The ``spar3d`` command line: thin wrappers over library functions.

Each module in this package that defines ``register(app: typer.Typer)`` adds its commands; the
main app discovers them, so a command group lives in one file of its own.
"""
