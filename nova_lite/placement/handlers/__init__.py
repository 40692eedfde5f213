"""One module per Placement resource."""
