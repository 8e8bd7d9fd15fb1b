"""Adoption evidence: wins (`wins`), the local usage log (`usage_log`), published usage counts
(`usage`) and the data files they share (`files`)."""
