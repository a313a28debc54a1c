"""callsync: every AI-handled phone call becomes a correct, traceable CRM record."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("callsync")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
