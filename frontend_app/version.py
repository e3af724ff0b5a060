"""The dashboard's version, shown by /health and written into exports."""

__version__ = "0.1.0"
