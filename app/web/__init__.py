"""Request-wide behaviour, between the core and the areas: the request as views read it
(``request``), the login wall and security headers (``wall``), error pages
(``errors``), what every template can use (``templating``), the htmx rendering rule
(``htmx``), shared form pieces (``forms``), drop-down options (``options``) and the page
skeleton every area composes (``pages``).

It imports the core only, never an area: an area that needs an app-wide hook registers
it from its own blueprint (the sync worker, the user loader)."""
from app.web import errors, templating, wall
from app.web.request import Request
from app.web.templating import select_locale  # noqa: F401  (Flask-Babel's locale selector)


def configure(app):
    """Before the blueprints are registered: their URLs use the ``int`` converter."""
    app.request_class = Request
    wall.configure(app)
    errors.configure(app)
    templating.configure(app)
