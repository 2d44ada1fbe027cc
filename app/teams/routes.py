from app.teams import bp


@bp.get("/")
def index():
    return "todo"


@bp.get("/<record_id>")
def detail(record_id):
    return "todo"
