"""covering indexes for list pages

The training list's deep page is cut from the sessions in the list's order (held_on,
id) filtered by owner and deletion; a page's roster figures count the attendees of
its sessions by category, sex, ethnicity and poverty; a commissioner's read scope is
their visits' ids. Each read every row it stepped over from the table (2,500 sessions
for page 100, ~870 roster lines for a page, 1,244 visit links for the county's busiest
commissioner); these indexes hold every column those queries read, so the database
reads the index only (docs/benchmarks.md, "Pages, second round"). The visit link's
index on the commissioner alone is replaced by one on (commissioner, visit).

Revision ID: a5e0fd4193d2
Revises: c9d0e1f2a3b4
Create Date: 2026-11-30 20:39:29.952055

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'a5e0fd4193d2'
down_revision = 'c9d0e1f2a3b4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('training', schema=None) as batch_op:
        batch_op.create_index('ix_training_page_cut', ['held_on', 'id', 'owner_node', 'deleted_at'],
                              unique=False)

    with op.batch_alter_table('training_attendee', schema=None) as batch_op:
        batch_op.create_index('ix_training_attendee_figures',
                              ['training_id', 'deleted_at', 'category', 'sex', 'ethnicity',
                               'poverty_alleviated'], unique=False)

    with op.batch_alter_table('visit_commissioner', schema=None) as batch_op:
        batch_op.create_index('ix_visit_commissioner_by_commissioner', ['commissioner_id', 'visit_id'],
                              unique=False)
        batch_op.drop_index('ix_visit_commissioner_commissioner_id')


def downgrade():
    with op.batch_alter_table('visit_commissioner', schema=None) as batch_op:
        batch_op.create_index('ix_visit_commissioner_commissioner_id', ['commissioner_id'], unique=False)
        batch_op.drop_index('ix_visit_commissioner_by_commissioner')

    with op.batch_alter_table('training_attendee', schema=None) as batch_op:
        batch_op.drop_index('ix_training_attendee_figures')

    with op.batch_alter_table('training', schema=None) as batch_op:
        batch_op.drop_index('ix_training_page_cut')
