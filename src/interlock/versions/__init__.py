"""Version management: canary splits, pinning, lifecycle (deprecation, sunset), shadow traffic,
config history and hot reload. See docs/versions.md.

Nothing is re-exported here: ``config.schema`` imports ``versions.settings`` while the config
package is still initialising, so this package must stay free of import-time dependencies.
"""
