"""In-memory adapters and a fault-injecting network, for simulation tests of the protocol."""
