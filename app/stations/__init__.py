"""Workstations (工作站: 专家工作站 / 基层工作站) and the sites under them
(乡村振兴综合试验站, 特色产业基地, 科技服务点).

Sites live in a blueprint nested in this one, so their endpoints read
``stations.sites.detail`` and so on, and the shared ``record_actions`` macro works for them.
"""
from flask import Blueprint

bp = Blueprint("stations", __name__, url_prefix="/stations")
sites_bp = Blueprint("sites", __name__)

from app.stations import routes, site_routes  # noqa: E402,F401

bp.register_blueprint(sites_bp)
