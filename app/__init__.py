"""Transparent selection procedures for Dutch postgraduate medical training."""
