"""Rendering for htmx: one template serves the full page and its partial.

A page template includes its partial; a fragment request (htmx, not boosted) gets just
the partial. Boosted requests (``HX-Boosted``) and plain browsers get the whole page.
"""
from flask import make_response, render_template, request


def wants_fragment() -> bool:
    return request.headers.get("HX-Request") == "true" and \
        request.headers.get("HX-Boosted") != "true"


def render(page_template: str, partial_template: str | None = None, /, status: int = 200,
           **context):
    """Render the page, or its partial for a fragment request, with ``status``."""
    template = partial_template if partial_template and wants_fragment() else page_template
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    return response


def invalid(page_template: str, partial_template: str | None = None, /, **context):
    """The same form again, with its field errors, as 422: nothing was written."""
    return render(page_template, partial_template, status=422, **context)
