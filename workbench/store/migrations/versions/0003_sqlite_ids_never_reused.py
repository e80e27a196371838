"""citations: on SQLite, the id of a removed citation is never given to a new one

Citations can be removed (Remove citation, DELETE /api/citations/{id}) and are named by id in the
audit log and in URLs. Without AUTOINCREMENT, SQLite hands the id of the newest removed row to the
next insert, so an old audit entry or a late DELETE would name a different citation. PostgreSQL's
sequences never reuse ids: nothing to do there.

Recreating the table drops the old one, and with foreign keys on, SQLite's DROP TABLE first deletes
every row, which sets exhibits.citation_id to NULL (ON DELETE SET NULL): those references are read
before and written back after, in the same transaction, so no exhibit loses its citation.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 09:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _recreate_citations(autoincrement: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    kept = bind.execute(sa.text('SELECT id, citation_id FROM exhibits WHERE citation_id IS NOT NULL')).all()
    with op.batch_alter_table('citations', recreate='always', table_kwargs={'sqlite_autoincrement': autoincrement}):
        pass
    for exhibit_id, citation_id in kept:
        bind.execute(sa.text('UPDATE exhibits SET citation_id = :c WHERE id = :e'), {'c': citation_id, 'e': exhibit_id})


def upgrade() -> None:
    _recreate_citations(True)


def downgrade() -> None:
    _recreate_citations(False)
