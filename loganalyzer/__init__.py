"""loganalyzer: name the sending networks that break SMTP's rules.

The public API (see ``__all__``): :func:`read` logs into :class:`Tables` of
polars LazyFrames, with :class:`Settings` for every option.
"""

from .reading import read
from .settings import Settings
from .tables import Tables

__all__ = ["Settings", "Tables", "read"]
