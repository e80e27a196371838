"""screening_jobs.empty_rows: rows without a name to screen are counted, not silently passed over

A property roll often has rows whose owner cell is blank. The CLI screen already skipped and
counted them; a screening job run from the web only advanced past them, so the researcher could
not tell a row that matched nobody from a row that was never screened. Jobs that ran before this
revision start at 0.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('screening_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('empty_rows', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('screening_jobs', schema=None) as batch_op:
        batch_op.drop_column('empty_rows')
