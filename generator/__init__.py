"""clausewatch: a signed, searchable archive of terms of service and privacy policies."""

__version__ = "0.1.0"
GENERATOR = f"clausewatch {__version__}"  # recorded in every file the archive writes
