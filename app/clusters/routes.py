"""Industry clusters: everyone reads the list; league and region admins
(``edit_clusters``) add, edit, delete and restore (app/web/pages.py)."""
from app.clusters import bp, services
from app.clusters.forms import ClusterForm
from app.core.i18n import gettext as _
from app.models import Cluster
from app.web.forms import field_labels
from app.web.pages import RecordPages

FILTERS = ("q", "major", "show")

pages = RecordPages(
    "clusters", Cluster, "cluster", form=lambda cluster: ClusterForm(obj=cluster),
    save=services.save, errors=services.errors, delete_blockers=services.delete_blockers,
    restore=services.restore, see_deleted="edit_clusters", write="edit_clusters",
    delete="edit_clusters",
    created=lambda cluster: _("%(name)s has been added.", name=cluster.name))


@bp.get("/")
def index():
    args = pages.filter_args(FILTERS)
    return pages.list(services.filtered(args), args)


@bp.get("/<record_id>")
def detail(record_id):
    return pages.detail(pages.shown(record_id), labels=field_labels(ClusterForm))


# The shared write pages (app/web/pages.py), each behind ``edit_clusters``.
bp.add_url_rule("/new", "new", pages.new_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/edit", "edit", pages.edit_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/delete", "delete", pages.delete_view, methods=["GET", "POST"])
bp.add_url_rule("/<record_id>/restore", "restore", pages.restore_view, methods=["POST"])
