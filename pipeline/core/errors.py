"""Domain errors that views, the API and the CLI all turn into their own kind of answer."""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    """A refusal the user can act on; `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, object]:
        return {"error": self.message}


class NotFound(DomainError):
    """The record does not exist or the caller may not see it (the two are never told apart)."""

    status = 404


class Forbidden(DomainError):
    """The caller sees the record but their role may not do this to it."""

    status = 403


class Conflict(DomainError):
    """Someone else changed the record first, or the move does not apply to its current stage."""

    status = 409


class InvalidInput(DomainError):
    """One or more fields are wrong; `fields` maps each field name to what is wrong with it."""

    status = 422

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message or "invalid input: " + ", ".join(sorted(fields)))
        self.fields = fields

    def to_dict(self) -> dict[str, object]:
        return {"error": self.message, "fields": self.fields}


@dataclass(frozen=True)
class Missing:
    """One thing a gate wants before the deal may move: a checklist item or a field."""

    kind: str  # "checklist" | "field" | a later gate's own kind
    key: str
    label: str
    label_en: str = field(default="")

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "key": self.key, "label": self.label, "label_en": self.label_en}


class GateRefused(Conflict):
    """The move's work is not done; `missing` names every item and field, not just the first."""

    def __init__(self, message: str, missing: list[Missing]) -> None:
        super().__init__(message)
        self.missing = missing

    def to_dict(self) -> dict[str, object]:
        return {"error": self.message, "missing": [m.to_dict() for m in self.missing]}
