"""entities.sort_key: lists order entries by their folded caption

The entity list ordered by the caption's bytes on SQLite, so 'Álvarez' and 'de la Cruz' came after
every name in capitals up to 'Z'; PostgreSQL ordered by its server's collation, so the two backends
disagreed. The column holds workbench.text.sort_key(caption), written with every caption; this
revision fills it for the entries already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:30:00
"""
import sqlalchemy as sa
from alembic import op

from workbench.text import sort_key

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

entities = sa.table('entities', sa.column('id', sa.String), sa.column('caption', sa.String),
                    sa.column('sort_key', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_key', sa.String(length=500), server_default='', nullable=False))
    connection = op.get_bind()
    rows = [{"row_id": row.id, "value": sort_key(row.caption or "")}
            for row in connection.execute(sa.select(entities.c.id, entities.c.caption))]
    for start in range(0, len(rows), 5000):
        connection.execute(entities.update().where(entities.c.id == sa.bindparam("row_id"))
                           .values(sort_key=sa.bindparam("value")), rows[start:start + 5000])
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entities_sort_key'), ['sort_key'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('entities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entities_sort_key'))
        batch_op.drop_column('sort_key')
