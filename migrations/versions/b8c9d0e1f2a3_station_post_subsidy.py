"""Station evaluation: the region's post-subsidy (后补助) on a station's sheet, in fen

Revision ID: b8c9d0e1f2a3
Revises: a7b8c9d0e1f2
Create Date: 2026-11-30 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8c9d0e1f2a3'
down_revision = 'a7b8c9d0e1f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessment_sheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subsidy_fen', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('subsidy_recorded_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('assessment_sheet', schema=None) as batch_op:
        batch_op.drop_column('subsidy_recorded_at')
        batch_op.drop_column('subsidy_fen')
