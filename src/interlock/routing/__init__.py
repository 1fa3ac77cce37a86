"""Routing: classify each request and choose the deployment that serves it."""
