"""user session generation

Every session and remember-me cookie carries the generation of its user's sessions it
was made in; logout, a new password, disabling the account and an admin's "end
sessions" bump it, which ends them all (app/auth/services.py). Existing accounts start
at 0; sessions made before this revision carry no generation and must log in again.

Revision ID: c4d5e6f7a8b9
Revises: 3e1dd236b375
Create Date: 2026-12-02 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d5e6f7a8b9'
down_revision = '3e1dd236b375'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_generation', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('session_generation')
