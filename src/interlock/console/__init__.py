"""The web console at ``/console``: spend and savings, routing, deployments, keys, compliance, evaluations.

Served by the gateway itself behind the admin key; pages are static HTML and vanilla JavaScript
shipped in the package (``static/``), filled from JSON endpoints that read the ledger's hourly
rollup, the key store, the audit log and the running runtime.
"""

from interlock.console.routes import mount

__all__ = ["mount"]
