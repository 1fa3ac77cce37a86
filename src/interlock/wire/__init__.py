"""Wire formats: request schemas of the client APIs and translation between provider formats."""
