"""Counters behind the human numbers of records (a visit's ``150121-01-2026-00042``)."""
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class NumberCounter(Base):
    """The last sequence handed out per kind of record, node and year. A new number is
    taken by updating this row in the transaction that saves the record, so writers at
    once wait for each other here instead of reading the same largest number
    (app/core/records.py ``allocate``). Not synced: each node numbers its own records."""

    __tablename__ = "number_counter"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    owner_node: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
