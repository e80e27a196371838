"""drop ix_names_entity_id: uq_names_entity_prop_name already leads with entity_id

Every lookup of an entity's names (and the ON DELETE CASCADE from entities) is served by the
unique index's leading column, so the single-column index only cost writes: an SDN import
inserts ~40,000 names.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 06:30:00
"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_names_entity_id'))


def downgrade() -> None:
    with op.batch_alter_table('names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_names_entity_id'), ['entity_id'], unique=False)
