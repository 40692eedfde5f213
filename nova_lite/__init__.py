"""nova_lite: a compact, wire-compatible reimplementation of the OpenStack Nova control plane."""

__version__ = "0.1.0"
