"""Users, roles, login, bearer tokens (expiring, revocable) and the access checks."""
