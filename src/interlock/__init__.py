"""interlock: a model routing layer for hybrid open-weight and frontier model portfolios."""

__version__ = "0.1.0"
