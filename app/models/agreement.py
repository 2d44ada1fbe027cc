"""Benefit-sharing agreements (利益共同体): commissioners take a stake in whom they serve,
sharing benefit and risk, and the ledger of what was paid out under the agreement.

Every record here is ``Synced``. The commissioner parties are a child record
(``AgreementParty``, with the party's share) rather than an association table, because
an association table travels as a bare id list and would lose the share. Children are
soft-deleted like every synced record, so the live collections exclude deleted rows.

Money is integer fen (``*_fen``); stakes and shares are integer basis points
(``*_bp``: 10000 = 100 %), so nothing is ever a float.
"""
from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, and_
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from app.core.money import format_yuan
from app.models.base import Base, Synced


class Agreement(Synced, Base):
    """One agreement between one or more commissioners and a service target."""

    __tablename__ = "agreement"

    number: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(200))
    counterpart_id: Mapped[str | None] = mapped_column(ForeignKey("service_target.id"), index=True)
    form: Mapped[str] = mapped_column(String(20))
    valuation_fen: Mapped[int | None] = mapped_column(BigInteger)  # 作价
    stake_bp: Mapped[int | None] = mapped_column(Integer)  # 股比, basis points
    profit_terms: Mapped[str] = mapped_column(Text, default="")
    profit_basis: Mapped[str] = mapped_column(String(12), default="")
    risk_terms: Mapped[str] = mapped_column(Text, default="")
    risk_basis: Mapped[str] = mapped_column(String(12), default="")
    ip_ownership: Mapped[str] = mapped_column(String(400), default="")
    signed_on: Mapped[date | None] = mapped_column(Date)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, index=True)
    cluster_id: Mapped[str | None] = mapped_column(ForeignKey("cluster.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    terminated_on: Mapped[date | None] = mapped_column(Date)
    termination_reason: Mapped[str] = mapped_column(String(400), default="")
    notes: Mapped[str] = mapped_column(Text, default="")

    counterpart = relationship("ServiceTarget")
    cluster = relationship("Cluster")
    parties = relationship(
        "AgreementParty", viewonly=True, order_by="AgreementParty.share_bp.desc()",
        primaryjoin=lambda: and_(Agreement.id == foreign(AgreementParty.agreement_id),
                                 AgreementParty.deleted_at.is_(None)))
    payouts = relationship(
        "Payout", viewonly=True, order_by="Payout.paid_on",
        primaryjoin=lambda: and_(Agreement.id == foreign(Payout.agreement_id),
                                 Payout.deleted_at.is_(None)))

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class AgreementParty(Synced, Base):
    """A commissioner party to an agreement, with its share (basis points)."""

    __tablename__ = "agreement_party"
    __table_args__ = (Index("ix_agreement_party_pair", "agreement_id", "commissioner_id"),)

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreement.id"), index=True)
    commissioner_id: Mapped[str] = mapped_column(ForeignKey("commissioner.id"), index=True)
    share_bp: Mapped[int] = mapped_column(Integer, default=10000)

    agreement = relationship("Agreement")
    commissioner = relationship("Commissioner")

    def __str__(self) -> str:
        return str(self.commissioner) if self.commissioner else self.commissioner_id


class Payout(Synced, Base):
    """One payment under an agreement (分红, 服务费, 转让费, 其他) to a commissioner party."""

    __tablename__ = "payout"

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreement.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    payee_id: Mapped[str] = mapped_column(ForeignKey("commissioner.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    out_of_term_reason: Mapped[str] = mapped_column(String(400), default="")

    agreement = relationship("Agreement")
    payee = relationship("Commissioner")

    def __str__(self) -> str:
        return f"{self.paid_on} ¥{format_yuan(self.amount_fen)}"
