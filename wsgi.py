"""The entry point for the flask CLI and for waitress: ``app = create_app()``."""
from app import create_app

app = create_app()
