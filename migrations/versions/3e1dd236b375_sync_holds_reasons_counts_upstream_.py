"""Sync holds, reasons and counts; the upstream token out of the database

Outbox entries can be held (the upstream waits for a record they reference) and keep the
upstream's reason as a code; runs count held operations; an upstream keeps what its
downstream nodes last reported as held and refused. The upstream token moves from the
database into the owner-only file ``instance/upstream_token``.

Revision ID: 3e1dd236b375
Revises: b7c1d2e3f4a5
Create Date: 2026-11-30 10:29:03.814095

"""
import os

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = '3e1dd236b375'
down_revision = 'b7c1d2e3f4a5'
branch_labels = None
depends_on = None

TOKEN_FILE = "upstream_token"


def _token_path():
    return os.path.join(current_app.instance_path, TOKEN_FILE)


def upgrade():
    with op.batch_alter_table('outbox_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('problem', sa.JSON(), nullable=True))

    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reported_held', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reported_refused', sa.Integer(), nullable=True))

    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held', sa.Integer(), nullable=False, server_default='0'))

    token = op.get_bind().execute(sa.text("SELECT token FROM upstream LIMIT 1")).scalar()
    if token:
        fd = os.open(_token_path(), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(token)
    with op.batch_alter_table('upstream', schema=None) as batch_op:
        batch_op.drop_column('token')


def downgrade():
    with op.batch_alter_table('upstream', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.VARCHAR(length=100), nullable=False,
                                      server_default=''))
    if os.path.exists(_token_path()):
        with open(_token_path(), encoding="ascii") as f:
            op.get_bind().execute(sa.text("UPDATE upstream SET token = :token"),
                                  {"token": f.read().strip()})

    with op.batch_alter_table('sync_run', schema=None) as batch_op:
        batch_op.drop_column('held')

    with op.batch_alter_table('peer', schema=None) as batch_op:
        batch_op.drop_column('reported_refused')
        batch_op.drop_column('reported_held')

    with op.batch_alter_table('outbox_entry', schema=None) as batch_op:
        batch_op.drop_column('problem')
        batch_op.drop_column('held_at')
