"""Form pieces shared by the areas: fields, validators and helpers."""
import re
from datetime import date, time

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, SelectMultipleField, StringField, TimeField, widgets
from wtforms.validators import ValidationError

from app.core.i18n import lazy_gettext as _l
from app.web.options import OptionList, option_tags

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


class MultiCheckboxField(SelectMultipleField):
    """Several choices as a list of checkboxes (usable on a phone, no JavaScript)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class OptionsSelect(widgets.Select):
    """A select whose choices are an ``options.OptionList``: its option tags as rendered
    once (app/web/options.py), the chosen ones marked per view; other choices are
    rendered an option at a time, as WTForms does (900 service targets that way took
    30 ms a form)."""

    def __call__(self, field, **kwargs):
        if not isinstance(field.choices, OptionList):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        if self.multiple:
            kwargs["multiple"] = True
        flags = getattr(field, "flags", {})
        for key in dir(flags):
            if key in self.validation_attrs and key not in kwargs:
                kwargs[key] = getattr(flags, key)
        chosen = list(field.data or ()) if self.multiple else field.data
        tags = str(option_tags(field.choices, chosen))
        if chosen == "":  # the blank choice chosen, as WTForms marks it
            tags = tags.replace('<option value="">', '<option value="" selected>', 1)
        return Markup(f"<select {widgets.html_params(name=field.name, **kwargs)}>{tags}</select>")


class OptionsSelectField(SelectField):
    """A SelectField shown through ``OptionsSelect`` (choices from app/web/options.py)."""

    widget = OptionsSelect()


class OptionsSelectMultipleField(SelectMultipleField):
    widget = OptionsSelect(multiple=True)


class DeleteForm(FlaskForm):
    """An empty form: a delete or restore button with its CSRF token."""


def not_in_future(form, field):
    if field.data and field.data > date.today():
        raise ValidationError(_l("The date cannot be in the future."))


def phone_number(form, field):
    """A mainland mobile (11 digits from 1) or a landline with area code."""
    value = (field.data or "").strip().replace(" ", "").replace("-", "")
    field.data = value
    if value and not re.fullmatch(r"1\d{10}|0\d{9,11}", value):
        raise ValidationError(_l("Enter an 11-digit mobile number or a landline with its area code."))


def id_number(form, field):
    """An 18-character resident ID number with a correct check digit (GB 11643)."""
    value = (field.data or "").strip().upper()
    field.data = value
    if not value:
        return
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise ValidationError(_l("An ID number has 18 characters: 17 digits and a digit or X."))
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS, strict=False))
    if ID_CHECK[total % 11] != value[17]:
        raise ValidationError(_l("This ID number's check digit is wrong; please check it."))


def field_html(f, hint=None, class_="") -> Markup:
    """A form field with its label, hint and errors: what the ``field`` macro of
    templates/_macros.html wrote, written here (the macro cost about 55 µs a field, a
    form of twenty fields a millisecond: Jinja's call and escaping of each piece)."""
    errors = f.errors
    kind = f.type
    text = escape(f.label.text)  # a lazy label as its translation, as Jinja writes it
    html = ['<div class="field ', escape(class_), " has-error" if errors else "",
            " check" if kind == "BooleanField" else "", '">']
    if kind == "BooleanField":
        html += ["<label>", f(**{"aria-invalid": "true" if errors else "false"}), " ", text, "</label>"]
    elif kind in ("MultiCheckboxField", "RadioField"):
        html += ["<fieldset><legend>", text, ' <span class="req">*</span>' if f.flags.required else "",
                 "</legend>", f(class_="checks"), "</fieldset>"]
    else:
        html += ['<label for="', escape(f.id), '">', text,
                 ' <span class="req" aria-hidden="true">*</span>' if f.flags.required else "", "</label>",
                 f(**{"aria-invalid": "true", "aria-describedby": f.id + "-err"}) if errors else f()]
    if hint:
        html += ['<small class="hint">', escape(hint), "</small>"]
    for error in errors:
        html += ['<p class="error" id="', escape(f.id), '-err">', escape(error), "</p>"]
    html.append("</div>")
    return Markup("".join(map(str, html)))


def field_labels(form_class) -> dict:
    """{field name: label} of a form class, for the history of its records. Worked out
    once per class (a form of thirty fields made for its labels on every record's page
    took a third of a millisecond): the labels are the class's lazy strings, translated
    when shown."""
    labels = _FIELD_LABELS.get(form_class)
    if labels is None:
        form = form_class(meta={"csrf": False}, formdata=None)
        labels = _FIELD_LABELS[form_class] = {name: field.label.text
                                              for name, field in form._fields.items()}
    return dict(labels)


_FIELD_LABELS: dict = {}


class TrimmedStringField(StringField):
    """A text field with surrounding spaces removed."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data:
            self.data = self.data.strip()


class TextTimeField(TimeField):
    """A time of day that the record keeps as ``"HH:MM"`` text (a visit's start and end):
    the record's text becomes a time, so that the form shows it and a form sent without
    the field keeps it (the text once reached the page and the save as it was: a 500)."""

    def process_data(self, value):
        if isinstance(value, str):
            try:
                value = time.fromisoformat(value) if value else None
            except ValueError:
                value = None
        super().process_data(value)
