"""`pipeline workflow`, `pipeline checklist …` and `pipeline lost-reasons …`: the method's configuration."""

from __future__ import annotations

import re

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import func, select

from pipeline.cli import one_transaction, table
from pipeline.core.errors import InvalidInput, NotFound
from pipeline.deals import kept, workflow
from pipeline.deals.method import STAGE_KEYS, stage
from pipeline.deals.models import ChecklistTemplate, LostReason
from pipeline.extensions import db

KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
KEY_MAX, LABEL_MAX = 50, 100

checklist = AppGroup("checklist", help="Each stage's work, and which items must be done to leave the stage.")
lost_reasons = AppGroup("lost-reasons", help="The list of reasons a deal can be lost for.")


@click.command("workflow")
def workflow_command() -> None:
    """Print the deal workflow as a Mermaid state diagram."""
    click.echo(workflow.to_mermaid())


@checklist.command("list")
@click.option("--stage", "stage_key", type=click.Choice(STAGE_KEYS), help="Only this stage's items.")
@one_transaction
def checklist_list(stage_key: str | None) -> None:
    """List the checklist items in the method's order, marked required or optional."""
    query = select(ChecklistTemplate).order_by(ChecklistTemplate.position)
    if stage_key:
        query = query.where(ChecklistTemplate.stage == stage_key)
    rows = [
        (
            f"{t.stage} {stage(t.stage).label_zh}",
            t.key,
            t.label_zh,
            t.label_en,
            ("required" if t.required else "optional") + ("" if t.active else " (inactive)"),
        )
        for t in db.session.scalars(query)
    ]
    click.echo(table(("stage", "key", "中文", "English", "required"), rows))


def _template(key: str) -> ChecklistTemplate:
    item = db.session.get(ChecklistTemplate, key)
    if item is None:
        raise NotFound(f"no checklist item {key!r}; `pipeline checklist list` shows the keys")
    return item


def _set_required(key: str, required: bool) -> None:
    item = _template(key)
    word = "required" if required else "optional"
    if item.required == required:
        click.echo(f"{item.key} ({item.label_zh}) is already {word}")
        return
    item.required = required
    db.session.flush()
    kept.recount_all()  # every deal's count of required items, this one's stage included
    click.echo(f"{item.key} ({item.label_zh}) is now {word} to leave {item.stage} ({stage(item.stage).label_zh})")
    if not required and item.key == workflow.CONTRACT_SIGNED:
        click.echo("note: entering 跟进 still needs the contract signed, whatever this setting says")


@checklist.command("require")
@click.argument("key")
@one_transaction
def checklist_require(key: str) -> None:
    """Make an item required: a deal cannot leave its stage until the item is done."""
    _set_required(key, True)


@checklist.command("optional")
@click.argument("key")
@one_transaction
def checklist_optional(key: str) -> None:
    """Make an item optional: it stays on the checklist but no longer holds the deal back."""
    _set_required(key, False)


@lost_reasons.command("list")
@one_transaction
def lost_reasons_list() -> None:
    """List the lost reasons in the order they are offered."""
    rows = [
        (r.key, r.label_zh, r.label_en, "active" if r.active else "inactive")
        for r in db.session.scalars(select(LostReason).order_by(LostReason.position, LostReason.key))
    ]
    click.echo(table(("key", "中文", "English", "status"), rows))


@lost_reasons.command("add")
@click.argument("key")
@click.option("--zh", "label_zh", required=True, help="Chinese label, e.g. 价格没有竞争力.")
@click.option("--en", "label_en", required=True, help="English label, e.g. Price not competitive.")
@one_transaction
def lost_reasons_add(key: str, label_zh: str, label_en: str) -> None:
    """Add a lost reason at the end of the list; its key never changes once used."""
    errors: dict[str, str] = {}
    if not KEY_RE.match(key) or len(key) > KEY_MAX:
        errors["key"] = f"lowercase letters, digits and _ (starting with a letter), at most {KEY_MAX} characters"
    elif db.session.get(LostReason, key) is not None:
        errors["key"] = f"the lost reason {key!r} already exists"
    for field, value in (("zh", label_zh), ("en", label_en)):
        if not value.strip():
            errors[field] = "a label is required"
        elif len(value.strip()) > LABEL_MAX:
            errors[field] = f"at most {LABEL_MAX} characters"
    if errors:
        raise InvalidInput(errors)
    position = (db.session.scalar(select(func.max(LostReason.position))) or 0) + 1
    db.session.add(
        LostReason(key=key, label_zh=label_zh.strip(), label_en=label_en.strip(), position=position, active=True)
    )
    db.session.flush()
    click.echo(f"added lost reason {key} ({label_zh.strip()} / {label_en.strip()})")


def register(app: Flask) -> None:
    """Attach `workflow`, `checklist` and `lost-reasons` to `app.cli`."""
    app.cli.add_command(workflow_command)
    app.cli.add_command(checklist)
    app.cli.add_command(lost_reasons)
