"""The group, its regions, the gas companies under them and their service centres."""
