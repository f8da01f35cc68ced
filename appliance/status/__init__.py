"""The box's answers to a person's four questions — is it earning, what happens next and when,
what has it earned, what needs me — as one typed :class:`~appliance.status.summary.StatusSummary`,
plus the epoch history with misses filled in. Each mode of the box supplies its own provider."""
