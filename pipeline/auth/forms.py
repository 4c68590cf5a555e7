"""Forms for signing in and out and for choosing the interface language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, PasswordField, SelectChoice, SelectField
from wtforms.validators import DataRequired, Length

from pipeline.core.forms import BaseForm

# Each language named in itself, so whoever cannot read the current one still finds their own.
LANGUAGES: tuple[SelectChoice, ...] = (SelectChoice("zh", "中文"), SelectChoice("en", "English"))


class LoginForm(BaseForm):
    """E-mail and password; `next` is where to go afterwards, checked to be a local path before use."""

    email = EmailField(_l("E-mail"), validators=[DataRequired(message=_l("Enter your e-mail.")), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(message=_l("Enter your password.")), Length(max=128)]
    )
    next = HiddenField()


class LogoutForm(BaseForm):
    """Nothing but the CSRF token: signing out is a POST so no link or image can do it behind your back."""


class LanguageForm(BaseForm):
    """The interface language, and the page to return to."""

    lang = SelectField(_l("Language"), choices=list(LANGUAGES), validators=[DataRequired()])
    next = HiddenField(id="language-next")  # on every page, beside forms that have their own `next`
