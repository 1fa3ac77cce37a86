"""Providers: one per upstream kind, all behind the ``Provider`` Protocol in ``base``."""
