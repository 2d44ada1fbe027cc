"""Enrolment: the downstream nodes this node serves, each with its own revocable token,
stored only as a SHA-256 hash. A node's identity comes from its token, never from what
its requests say."""
import hashlib
import secrets

from sqlalchemy import select

from app.core.extensions import db
from app.models import Peer, utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "kp1_" + secrets.token_urlsafe(32)


def enroll(code: str, name: str) -> tuple[Peer, str]:
    """Register a downstream node (or give an enrolled one a new token); returns the
    peer and its token, which is shown once and never stored."""
    token = new_token()
    peer = db.session.scalar(select(Peer).where(Peer.code == code))
    if peer is None:
        peer = Peer(code=code, name=name)
        db.session.add(peer)
    peer.name = name or peer.name
    peer.token_hash, peer.token_hint, peer.revoked_at = _hash(token), token[:8], None
    db.session.commit()
    return peer, token


def revoke(code: str) -> Peer | None:
    peer = db.session.scalar(select(Peer).where(Peer.code == code))
    if peer is not None:
        peer.revoked_at = utcnow()
        db.session.commit()
    return peer


def authenticate(token: str) -> tuple[Peer | None, str]:
    """The enrolled node this token belongs to, or None and why not."""
    if not token or len(token) > 200:
        return None, "no token"
    peer = db.session.scalar(select(Peer).where(Peer.token_hash == _hash(token)))
    if peer is None:
        return None, "unknown token"
    if peer.revoked_at is not None:
        return None, "token revoked"
    return peer, ""


def all_peers() -> list[Peer]:
    return db.session.scalars(select(Peer).order_by(Peer.code)).all()
