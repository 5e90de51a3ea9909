"""The sync protocol core: wire schemas, change records, merge rules, the client engine.

Pure Python: no Flask, no Kivy, no SQLAlchemy, no sockets. Both the server and the tablet import it.
"""

PROTOCOL_VERSION = 1

__all__ = ["PROTOCOL_VERSION"]
