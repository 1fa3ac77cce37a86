"""The catalog: which models exist, which deployments serve them, and what clients may call them."""

from interlock.catalog.catalog import Catalog, CatalogModel

__all__ = ["Catalog", "CatalogModel"]
