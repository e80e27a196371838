"""users.session_epoch: signing out, a password, role or active change end the user's sessions

Session cookies are signed, not stored, so without a server-side value a copied cookie kept working
after sign-out or a password reset until it expired. Each cookie now carries the user's session
generation from sign-in; raising it signs every older cookie out. Existing users start at 0, and
cookies issued before this revision carry no generation, so they are signed out once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
