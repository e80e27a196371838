"""dossiers.previous_id unique: a package version has at most one successor

Two requests opening the next version of one dossier at the same moment both found no successor and
both inserted one: two drafts of one package, and the approved version's page failed on the second.
The service now also bumps the old version's row, so the later request conflicts; this index keeps the
rule in the database for any writer.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Twins left by the race: the one furthest along (approved, then submitted or decided, before a draft),
    # else the first opened, stays the next version; another keeps everything it holds but is detached
    # from the chain (a package of its own), since only one can follow.
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, previous_id FROM dossiers WHERE previous_id IN (SELECT previous_id FROM dossiers "
        "WHERE previous_id IS NOT NULL GROUP BY previous_id HAVING COUNT(*) > 1) ORDER BY "
        "CASE state WHEN 'approved' THEN 0 WHEN 'draft' THEN 2 WHEN 'withdrawn' THEN 3 ELSE 1 END, "
        "created_at, id")).all()
    kept: set[str] = set()
    for dossier_id, previous_id in rows:
        if previous_id in kept:
            connection.execute(sa.text("UPDATE dossiers SET previous_id = NULL WHERE id = :id"), {"id": dossier_id})
        kept.add(previous_id)
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index('uq_dossiers_previous_id', ['previous_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.drop_index('uq_dossiers_previous_id')
