"""number counters

Visit numbers were the largest in use plus one, read before the insert: of 59 visits
created at once, one failed with a duplicate number after five retries. Now each node
and year has a counter row, updated in the transaction that saves the visit, so that
writers at once wait for each other (app/records.py ``allocate``). The counters start
from the visits already numbered.

Revision ID: d5e6f7a8b9c0
Revises: c4d5e6f7a8b9
Create Date: 2026-12-02 09:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd5e6f7a8b9c0'
down_revision = 'c4d5e6f7a8b9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'number_counter',
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('owner_node', sa.String(length=16), nullable=False),
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'owner_node', 'year', name=op.f('pk_number_counter')),
    )
    op.execute("INSERT INTO number_counter (kind, owner_node, year, last) "
               "SELECT 'visit', owner_node, year, MAX(sequence) FROM visit "
               "GROUP BY owner_node, year")


def downgrade():
    op.drop_table('number_counter')
