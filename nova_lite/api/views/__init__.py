"""Response views, per microversion."""
