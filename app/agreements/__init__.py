"""Benefit-sharing agreements (利益共同体): terms, life cycle, the payout ledger, the
attention list and exports."""
from flask import Blueprint

bp = Blueprint("agreements", __name__, url_prefix="/agreements")

from app.agreements import routes, templating  # noqa: E402,F401
