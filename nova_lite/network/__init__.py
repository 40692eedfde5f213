"""Networking for instances: Neutron ports, the network info cache, security groups."""
