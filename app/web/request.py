"""The request every view reads: werkzeug's, less what no form can name.

A multipart part whose name is missing or unreadable (a line break in it) comes out of
werkzeug's parser under the key ``None``. No field is named ``None``, and WTForms, which
looks at every key of the form data, failed on it with a server error; such parts are
dropped here, before anything reads the form."""
from flask import Request as FlaskRequest
from werkzeug.datastructures import ImmutableMultiDict


class Request(FlaskRequest):
    def _load_form_data(self) -> None:
        super()._load_form_data()
        for name in ("form", "files"):
            data = self.__dict__[name]
            if None in data:
                self.__dict__[name] = ImmutableMultiDict(
                    (key, value) for key, value in data.items(multi=True) if key is not None)
