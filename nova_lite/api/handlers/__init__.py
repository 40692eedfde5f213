"""Compute API resource handlers: one module per resource."""
