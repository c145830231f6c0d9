"""Mail Setup Wizard: from an email address to a working, verified mail account.

``app.core`` is the pure-Python core (no Qt); ``app.cli`` and ``app.ui`` are its two clients.
"""

from app._version import __version__

__all__ = ["__version__"]
