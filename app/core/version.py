"""The program's version: sent to the upstream with each push and kept in backups."""
__version__ = "0.1.0"
