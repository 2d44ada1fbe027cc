"""roster category index holds deleted_at

The training list's category filter reads which sessions have live attendees of a
category. The index (category, training_id) answered which sessions, but each entry's
row had to be read to see whether it was deleted (7,000 row reads on the county
dataset); with deleted_at in the index the filter reads the index alone.

Revision ID: b7c1d2e3f4a5
Revises: 5ee78dff9979
Create Date: 2026-11-28 18:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b7c1d2e3f4a5'
down_revision = '5ee78dff9979'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training_attendee', schema=None) as batch_op:
        batch_op.drop_index('ix_training_attendee_category')
        batch_op.create_index('ix_training_attendee_category',
                              ['category', 'training_id', 'deleted_at'], unique=False)


def downgrade():
    with op.batch_alter_table('training_attendee', schema=None) as batch_op:
        batch_op.drop_index('ix_training_attendee_category')
        batch_op.create_index('ix_training_attendee_category', ['category', 'training_id'],
                              unique=False)
