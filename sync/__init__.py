"""The sync protocol core: wire schemas, change records, merge rules, the client engine.

Pure Python: no Flask, no Kivy, no SQLAlchemy, no sockets. Both the server and the tablet import it.
The wire schemas live in ``sync.wire`` (they need marshmallow); the in-memory adapters for
simulation live in ``sync.sim``.
"""

PROTOCOL_VERSION = 1

from sync.collections import REGISTRY, CollectionSpec, FieldClass, device_may_write, spec_for  # noqa: E402
from sync.engine import Backoff, BlobRejected, SyncEngine, SyncReport  # noqa: E402
from sync.merge import Decision, MergeContext, decide  # noqa: E402
from sync.ports import (  # noqa: E402
    AuthRevoked,
    DeviceStore,
    ProtocolMismatch,
    ServerStore,
    Transport,
    TransportError,
)
from sync.records import (  # noqa: E402
    BlobRef,
    ConflictRecord,
    Mutation,
    MutationResult,
    Op,
    Principal,
    PullPage,
    PullRequest,
    PushRequest,
    PushResponse,
    ResultStatus,
    Row,
    RowRef,
    RowWrite,
    StoredResult,
)
from sync.scope import BadCursor  # noqa: E402
from sync.server_core import (  # noqa: E402
    MAX_PULL_LIMIT,
    MAX_PUSH_BATCH,
    InvalidRequest,
    ProtocolVersionUnsupported,
    ServerCore,
)

__all__ = [
    "MAX_PULL_LIMIT",
    "MAX_PUSH_BATCH",
    "PROTOCOL_VERSION",
    "REGISTRY",
    "AuthRevoked",
    "Backoff",
    "BadCursor",
    "BlobRef",
    "BlobRejected",
    "CollectionSpec",
    "ConflictRecord",
    "Decision",
    "DeviceStore",
    "FieldClass",
    "InvalidRequest",
    "MergeContext",
    "Mutation",
    "MutationResult",
    "Op",
    "Principal",
    "ProtocolMismatch",
    "ProtocolVersionUnsupported",
    "PullPage",
    "PullRequest",
    "PushRequest",
    "PushResponse",
    "ResultStatus",
    "Row",
    "RowRef",
    "RowWrite",
    "ServerCore",
    "ServerStore",
    "StoredResult",
    "SyncEngine",
    "SyncReport",
    "Transport",
    "TransportError",
    "decide",
    "device_may_write",
    "spec_for",
]
