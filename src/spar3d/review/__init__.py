"""``spar3d review``: a local web app to curate a benchmark, a SPAR-7M tree or a run.

See ``docs/cli/review.md``. The app needs the ``review`` extra (FastAPI and uvicorn).
"""
