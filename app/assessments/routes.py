"""Assessment pages (written after the services)."""
