"""citations.page and exhibits.page take 200 characters, citations.value any length

A page locator as the README invites it ('p. 12, párrafo tercero, línea 4 a 9 del anexo B') exceeded 40
characters, and a cited value holds whatever its entry holds (a description of 2,500 characters): SQLite stored
both, PostgreSQL refused them with a server error, so a SQLite store's backup would not restore into PostgreSQL.
The domain now refuses a page over 200 characters, naming the field, on both.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 10:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _citations(alter) -> None:
    """Alter citations; on SQLite the table is rebuilt, and must stay AUTOINCREMENT with its sequence where it was
    (0003: a removed citation's id is never given to a new one)."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == 'sqlite'
    seq = bind.execute(sa.text("SELECT seq FROM sqlite_sequence WHERE name = 'citations'")).scalar() if sqlite else None
    kwargs = {'table_kwargs': {'sqlite_autoincrement': True}} if sqlite else {}
    with op.batch_alter_table('citations', schema=None, **kwargs) as batch_op:
        alter(batch_op)
    if seq is not None:
        bind.execute(sa.text("UPDATE sqlite_sequence SET seq = MAX(seq, :seq) WHERE name = 'citations'"), {'seq': seq})


def upgrade() -> None:
    def wider(batch_op):
        batch_op.alter_column('page', existing_type=sa.String(length=40), type_=sa.String(length=200),
                              existing_nullable=True)
        batch_op.alter_column('value', existing_type=sa.String(length=2000), type_=sa.Text(), existing_nullable=True)

    _citations(wider)
    with op.batch_alter_table('exhibits', schema=None) as batch_op:
        batch_op.alter_column('page', existing_type=sa.String(length=40), type_=sa.String(length=200),
                              existing_nullable=True)


def downgrade() -> None:
    # Values too long for the older columns are cut to fit (the audit log keeps them whole).
    connection = op.get_bind()
    connection.execute(sa.text("UPDATE citations SET page = SUBSTR(page, 1, 40) WHERE LENGTH(page) > 40"))
    connection.execute(sa.text("UPDATE citations SET value = SUBSTR(value, 1, 2000) WHERE LENGTH(value) > 2000"))
    connection.execute(sa.text("UPDATE exhibits SET page = SUBSTR(page, 1, 40) WHERE LENGTH(page) > 40"))
    with op.batch_alter_table('exhibits', schema=None) as batch_op:
        batch_op.alter_column('page', existing_type=sa.String(length=200), type_=sa.String(length=40),
                              existing_nullable=True)

    def narrower(batch_op):
        batch_op.alter_column('value', existing_type=sa.Text(), type_=sa.String(length=2000), existing_nullable=True)
        batch_op.alter_column('page', existing_type=sa.String(length=200), type_=sa.String(length=40),
                              existing_nullable=True)

    _citations(narrower)
