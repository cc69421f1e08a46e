"""clausewatch: a signed, searchable archive of terms of service and privacy policies."""

__version__ = "0.1.0"
