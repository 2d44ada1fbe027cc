"""Forms for agreements, their life-cycle steps, payouts and scans. Amounts and
percentages are typed as text and read exactly by app/core/money.py."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, FieldList, Form, FormField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from app.agreements import vocab
from app.core.choices import options
from app.core.i18n import lazy_gettext as _l
from app.core.money import MoneyError, format_percent, format_yuan, parse_percent, parse_yuan
from app.web.forms import OptionsSelectField, TrimmedStringField, field_labels, not_in_future

PARTY_ROWS = 4


class _ExactField(StringField):
    """Text read by an exact parser into an integer; a refusal becomes a field error."""

    parse = staticmethod(lambda text: int(text))
    show = staticmethod(str)

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = None
        if text.strip():
            try:
                self.data = self.parse(text)
            except MoneyError as error:
                raise ValueError(str(error.args[0])) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return self.show(self.data) if self.data is not None else ""


class YuanField(_ExactField):
    """An amount in yuan, kept as integer fen."""

    parse = staticmethod(parse_yuan)
    show = staticmethod(format_yuan)


class PercentField(_ExactField):
    """A percentage 0–100, kept as integer basis points."""

    parse = staticmethod(parse_percent)
    show = staticmethod(format_percent)


class PartyForm(Form):
    commissioner_id = OptionsSelectField(_l("Commissioner"), validators=[Optional()])
    share_bp = PercentField(_l("Share (per cent)"), validators=[Optional()])


class AgreementForm(FlaskForm):
    number = TrimmedStringField(_l("Agreement number"), validators=[Optional(), Length(max=40)])
    title = TrimmedStringField(_l("Agreement title"), validators=[InputRequired(), Length(max=200)])
    parties = FieldList(FormField(PartyForm), label=_l("Commissioner parties"),
                        min_entries=PARTY_ROWS, max_entries=12)
    counterpart_id = OptionsSelectField(_l("Service target (counterpart)"), validators=[InputRequired()])
    form = SelectField(_l("Form"), choices=options(vocab.FORMS))
    valuation_fen = YuanField(_l("Valuation (yuan)"), validators=[Optional()])
    stake_bp = PercentField(_l("Stake (per cent)"), validators=[Optional()])
    profit_basis = SelectField(_l("Basis of profit sharing"),
                               choices=options(vocab.BASES, blank="—"), validators=[Optional()])
    profit_terms = TextAreaField(_l("Profit-sharing terms"), validators=[Optional(), Length(max=4000)])
    risk_basis = SelectField(_l("Basis of risk sharing"),
                             choices=options(vocab.BASES, blank="—"), validators=[Optional()])
    risk_terms = TextAreaField(_l("Risk-sharing terms"), validators=[Optional(), Length(max=4000)])
    ip_ownership = TrimmedStringField(_l("Intellectual-property ownership"),
                                      validators=[Optional(), Length(max=400)])
    signed_on = DateField(_l("Signed on"), validators=[Optional(), not_in_future])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    cluster_id = OptionsSelectField(_l("Industry cluster"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])

    def party_rows(self) -> tuple[list[tuple[str, int]], list[str]]:
        """([(commissioner id, share bp)], errors) from the filled party rows; a lone
        party without a share holds 100%."""
        filled = [row.form for row in self.parties if row.form.commissioner_id.data]
        errors = []
        rows = []
        for row in filled:
            share = row.share_bp.data
            if share is None and len(filled) == 1 and not row.share_bp.errors:
                share = 10000
            if share is None:
                errors.append(_l("Enter each commissioner's share."))
                continue
            rows.append((row.commissioner_id.data, share))
        return rows, errors

    def data_for_save(self) -> dict:
        skip = {"csrf_token", "parties"}
        data = {name: field.data for name, field in self._fields.items() if name not in skip}
        for key in ("profit_basis", "risk_basis", "profit_terms", "risk_terms", "ip_ownership",
                    "notes", "number"):
            data[key] = data[key] or ""
        data["cluster_id"] = data["cluster_id"] or None
        data["parties"] = self.party_rows()[0]
        return data


class TransitionForm(FlaskForm):
    on = DateField(_l("Date"), validators=[InputRequired()])
    reason = TrimmedStringField(_l("Reason for the termination"),
                                validators=[Optional(), Length(max=400)])


class PayoutForm(FlaskForm):
    paid_on = DateField(_l("Date paid"), validators=[InputRequired(), not_in_future])
    amount_fen = YuanField(_l("Amount (yuan)"), validators=[InputRequired()])
    kind = SelectField(_l("Kind of payout"), choices=options(vocab.PAYOUT_KINDS))
    payee_id = SelectField(_l("Paid to"), validators=[InputRequired()])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    out_of_term_reason = TrimmedStringField(_l("Reason for a payout outside the term"),
                                            validators=[Optional(), Length(max=400)])
    # Shown with the warning of a payout identical to one already recorded: ticked, the
    # payout is recorded all the same (a second payment of the same sum on the same day).
    same_again = BooleanField(_l("Yes, record it: this is another payment"))

    def data_for_save(self) -> dict:
        data = {name: field.data for name, field in self._fields.items()
                if name not in ("csrf_token", "same_again")}
        data["note"] = data["note"] or ""
        data["out_of_term_reason"] = data["out_of_term_reason"] or ""
        return data


class ScanForm(FlaskForm):
    file = FileField(_l("Signed agreement (PDF or photo)"), validators=[FileRequired()])
    caption = TrimmedStringField(_l("Caption"), validators=[Optional(), Length(max=200)])


def history_labels() -> dict:
    """An agreement's history by its form's labels, and the fields its steps set."""
    return {**field_labels(AgreementForm), "status": _l("Status"),
            "terminated_on": _l("Terminated on"),
            "termination_reason": _l("Reason for the termination")}


def payout_history_labels() -> dict:
    """A payout's history by its form's labels."""
    return {**field_labels(PayoutForm), "agreement": _l("Agreement")}
