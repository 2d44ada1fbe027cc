"""What agreement templates (and the commissioner and home pages) use: the ``yuan`` and
``percent`` filters, the vocabularies, and the commissioner's agreement summary."""
from app.agreements import bp, services, vocab
from app.core.money import format_percent, format_yuan


@bp.app_template_filter("yuan")
def yuan_filter(fen, empty="—"):
    return format_yuan(fen, empty)


@bp.app_template_filter("percent")
def percent_filter(bp_value, empty="—"):
    shown = format_percent(bp_value, "")
    return f"{shown}%" if shown else empty


@bp.app_context_processor
def agreement_globals():
    return {"agreement_vocab": vocab,
            "commissioner_agreements": services.commissioner_summary}
