"""The project's base form: CSRF from Flask-WTF, and text that arrives without stray whitespace."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, PasswordField


def strip_whitespace(value: Any) -> Any:
    """Trim text so "  Acme " and "Acme" are the same input; leave other values alone."""
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Every page form derives from this: text fields are stripped, passwords are kept exactly as typed."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Field:
            """Append the strip filter to every field but passwords (a space may be part of one)."""
            if not issubclass(unbound_field.field_class, PasswordField) and len(unbound_field.args) < 3:
                filters = options.get("filters", unbound_field.kwargs.get("filters", ()))
                options["filters"] = (*filters, strip_whitespace)
            return unbound_field.bind(form=form, **options)
