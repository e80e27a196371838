"""names.normalized: names in other scripts are transliterated, not folded to nothing

The stored fold kept only Latin letters, so 'Иван Петров' was stored as '' and could not be found
by the name lookups that use this column. The fold now transliterates (workbench.text.ascii_fold);
this revision recomputes the column for every stored name whose fold changed. Downgrading keeps
the new values: they are what the older code would look up in vain anyway.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 15:00:00
"""
import sqlalchemy as sa
from alembic import op

from workbench.text import fold

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

names = sa.table('names', sa.column('id', sa.Integer), sa.column('name', sa.Text),
                 sa.column('normalized', sa.String))


def upgrade() -> None:
    connection = op.get_bind()
    changed = []
    for row in connection.execute(sa.select(names.c.id, names.c.name, names.c.normalized)):
        if row.name is not None and not row.name.isascii():
            new = fold(row.name)[:500]
            if new != row.normalized:
                changed.append({"row_id": row.id, "value": new})
    if changed:
        connection.execute(names.update().where(names.c.id == sa.bindparam("row_id"))
                           .values(normalized=sa.bindparam("value")), changed)


def downgrade() -> None:
    pass
