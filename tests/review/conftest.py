"""Fixtures of the review tests; the helpers live in ``review_support`` (a unique module name:
every test folder has a ``conftest`` module, so importing one by that name is ambiguous)."""

from review_support import bench, built, serve  # noqa: F401
