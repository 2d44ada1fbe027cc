"""Demo data: a realistic station to try things on (``flask seed-demo``)."""


def seed(scale: str) -> dict:
    raise NotImplementedError
