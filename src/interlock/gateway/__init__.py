"""The gateway core: resolves a request to a deployment, calls its provider, and records the outcome."""
