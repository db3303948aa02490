"""The förvaltning's admin, one module per part of the domain; importing them registers their
pages."""

from . import arenden, jobb, organisation, sammantraden, tjansteutlatanden  # noqa: F401
