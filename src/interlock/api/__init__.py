"""The HTTP layer: thin Starlette handlers that parse, call the gateway core, and render."""
