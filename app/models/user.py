"""People who log in to this node, and the login attempts that throttle guessing."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.models.base import Audited, Base, utcnow


class User(Audited, UserMixin, Base):
    __tablename__ = "user"
    __audit_hidden__ = ("password_hash",)
    __audit_skip__ = ("last_login_at", "session_generation")

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    node_code: Mapped[str] = mapped_column(String(16))
    commissioner_id: Mapped[str | None] = mapped_column(ForeignKey("commissioner.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Bumped when every session of the account must end (logout, a new password, the
    # account disabled, an admin's "end sessions"): sessions and remember-me cookies
    # carry the generation they were made in (get_id) and die when it moves on.
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    commissioner = relationship("Commissioner")

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """What the session and the remember-me cookie carry: ``<id>:<generation>``
        (Flask-Login's alternative id), checked by ``auth.services.session_user``."""
        return f"{self.id}:{self.session_generation or 0}"

    def __str__(self) -> str:
        return self.display_name or self.username


class LoginAttempt(Base):
    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_address_at", "address", "at"),
        Index("ix_login_attempt_device_at", "device", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    # The browser's device cookie (app/auth/services.py), or "" when it sent none.
    device: Mapped[str] = mapped_column(String(64), default="", server_default="")
    succeeded: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
