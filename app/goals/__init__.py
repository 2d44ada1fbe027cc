"""Plan targets (目标进度): the action plan's targets as data, and their progress report.

Not to be confused with app/targets/ (服务对象, the people a commissioner serves)."""
from flask import Blueprint

bp = Blueprint("goals", __name__, url_prefix="/goals")
report_bp = Blueprint("goal_report", __name__, url_prefix="/reports")

from app.goals import routes  # noqa: E402,F401
