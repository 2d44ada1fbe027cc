"""login attempt device

Failed logins are counted per account and per device (a cookie the login page sets),
so that one person's typos on the shared office laptop lock only their own account;
the address still caps a guesser who drops the cookie. Earlier attempts have no device.

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-11-30 15:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.add_column(sa.Column('device', sa.String(length=64), nullable=False,
                                      server_default=''))
        batch_op.create_index('ix_login_attempt_device_at', ['device', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_device_at')
        batch_op.drop_column('device')
