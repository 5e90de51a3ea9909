"""Remove the demo company and every row it owns.

Synced rows are never deleted in normal operation (a tombstone travels instead). The demo reset is
the one exception: it really deletes, with bulk SQL in foreign-key dependency order, which does not
go through the ORM's before_flush guard. It touches only rows of the demo company (and the API
tokens of its users); the group and region stay, as other companies may belong to them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError

from server.auth.models import ApiToken, User
from server.db import Base
from server.org.models import Company


def delete_company(session: Session, company: Company) -> int:
    """Delete the company's rows, children before parents; returns how many rows went."""
    cid = company.id
    total = session.execute(
        sa.delete(ApiToken).where(ApiToken.user_id.in_(sa.select(User.id).where(User.company_id == cid)))
    ).rowcount
    present = set(sa.inspect(session.connection()).get_table_names())  # a database a migration behind
    for table in reversed(Base.metadata.sorted_tables):
        if "company_id" in table.c and table.name != "company" and table.name in present:
            total += session.execute(sa.delete(table).where(table.c.company_id == cid)).rowcount
    total += session.execute(sa.delete(Company.__table__).where(Company.__table__.c.id == cid)).rowcount
    # Forget the deleted rows the session still holds; other companies' objects stay usable.
    for obj in list(session.identity_map.values()):
        try:
            gone = obj is company or getattr(obj, "company_id", None) == cid
        except ObjectDeletedError:  # an expired row of the demo company: its reload found nothing
            gone = True
        if gone:
            session.expunge(obj)
    return total
