from app.imports import bp


@bp.get("/<kind>")
def start(kind):
    return "todo"
