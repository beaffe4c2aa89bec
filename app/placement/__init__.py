"""Placement after selection: the suitable candidates' preferences and the verifiable match."""
