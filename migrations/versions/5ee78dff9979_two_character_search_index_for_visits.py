"""two-character search index for visits

Chinese words are mostly two characters long, which trigram indexes cannot answer: this
adds the pairs index of app.visits.search (SQLite: an FTS5 table kept by triggers that
call the kepai_pairs function the program registers; PostgreSQL: a kepai_pairs SQL
function and a GIN index on it), filled from the visits already there.

Revision ID: 5ee78dff9979
Revises: 95e77fceb444
Create Date: 2026-11-28 17:45:00.000000

"""
from alembic import op

from app.visits import search


# revision identifiers, used by Alembic.
revision = '5ee78dff9979'
down_revision = '95e77fceb444'
branch_labels = None
depends_on = None


def upgrade():
    search.install_pairs(op.get_bind())


def downgrade():
    search.uninstall_pairs(op.get_bind())
