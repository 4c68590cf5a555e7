"""The real run of a contact import: everything the plan decided, in bulk, in the caller's one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, case, func, insert, select, text, update

from pipeline.accounts.models import Account, Contact, Tag, contact_tags
from pipeline.auth.models import User
from pipeline.core.audit import record
from pipeline.core.changelog import FieldChange, as_text
from pipeline.core.models import utcnow
from pipeline.extensions import db
from pipeline.imports import values
from pipeline.imports.bulk import insert_rows
from pipeline.imports.contacts import CHUNK, CREATE, MERGE, SKIP, ContactPlan
from pipeline.imports.errors import BadRows
from pipeline.imports.rows import FILLABLE, Candidate

ACCOUNTS = Account.__table__
CONTACTS = Contact.__table__
TAGS = Tag.__table__
CONTACT_TAGS = contact_tags
CONTACT_COLUMNS = Candidate._fields[1:9]  # name, title, mobile, phone, email, birthday, address, notes
COMPANY, TAGS_AT = Candidate._fields.index("company"), Candidate._fields.index("tags")


@dataclass(frozen=True)
class Imported:
    """What a real run did."""

    created: int
    merged: int
    skipped: int
    accounts: int
    tags: int


def allocate_ids(table: Any, n: int) -> list[int]:
    """Ids for `n` new rows, so plain executemany can insert them with their ids known.

    RETURNING with the rows' order kept runs one INSERT per row on SQLite; known ids keep executemany fast on
    both databases. PostgreSQL hands out the ids from the table's sequence. SQLite has one writer at a time and
    this transaction has written already (write_contacts logs the import first), so nobody else can take the
    ids after the largest one before the commit.
    """
    if n <= 0:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        # One array, not n rows: fetching 100,000 one-column rows costs the client more than the server's nextvals.
        query = text("SELECT array_agg(nextval(pg_get_serial_sequence(:table, 'id'))) FROM generate_series(1, :n)")
        return list(db.session.execute(query, {"table": table.name, "n": n}).scalar_one())
    top = db.session.execute(select(func.max(table.c.id))).scalar() or 0
    return list(range(top + 1, top + n + 1))


def _new_tags(plan: ContactPlan, now: Any) -> dict[str, int]:
    names = list(plan.new_tags)
    ids = dict(plan.tags)
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        created = allocate_ids(TAGS, len(chunk))
        insert_rows(TAGS, ("id", "name"), zip(created, chunk, strict=True), {"created_at": now})
        ids.update(zip(chunk, created, strict=True))
    return ids


def _accounts(plan: ContactPlan, kind: str, names: list[str], now: Any) -> list[int]:
    """New accounts of one kind, owned by the plan's owner; their ids in the names' order."""
    ids = allocate_ids(ACCOUNTS, len(names))
    constants = {"kind": kind, "owner_id": plan.owner.id, "created_at": now, "updated_at": now}
    insert_rows(ACCOUNTS, ("id", "name"), zip(ids, names, strict=True), constants)
    return ids


def _company_accounts(plan: ContactPlan, now: Any) -> dict[str, int]:
    ids = dict(plan.accounts)
    keys = list(plan.new_accounts)
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        ids.update(zip(chunk, _accounts(plan, "b2b", [plan.new_accounts[k] for k in chunk], now), strict=True))
    return ids


def _create_contacts(plan: ContactPlan, accounts: dict[str, int], tags: dict[str, int], now: Any) -> None:
    folds = plan.folds
    key = values.key
    stamps = {"created_at": now, "updated_at": now}
    for spilled in plan.spill.rows():
        people = _accounts(plan, "b2c", [row[1] for row in spilled if not row[COMPANY]], now)
        person_ids = iter(people)
        ids = allocate_ids(CONTACTS, len(spilled))
        contacts: list[tuple[Any, ...]] = []
        links: list[tuple[int, int]] = []
        for row, contact_id in zip(spilled, ids, strict=True):
            account_id = accounts[key(row[COMPANY])] if row[COMPANY] else next(person_ids)
            cells = row[1:9]  # name … notes, in Candidate's order
            row_tags: Any = row[TAGS_AT]
            fold = folds.get(row[0])
            if fold is not None:
                if fold.fills:
                    cells = tuple(fold.fills.get(c, v) for c, v in zip(CONTACT_COLUMNS, cells, strict=True))
                row_tags = (*row_tags, *(fold.new_tags or ()))
            contacts.append((contact_id, account_id, *cells))
            links.extend((contact_id, tags[name]) for name in row_tags)
        insert_rows(CONTACTS, ("id", "account_id", *CONTACT_COLUMNS), contacts, stamps)
        insert_rows(CONTACT_TAGS, ("contact_id", "tag_id"), links)


# Fill a field only where it is still empty: the plan compared with the contact as it was read, and the same
# statement serves every merge whatever it fills (one executemany).
def _fill(column: str) -> Any:
    if column == "birthday":
        return func.coalesce(CONTACTS.c.birthday, bindparam("new_birthday"))
    return case((CONTACTS.c[column] == "", bindparam(f"new_{column}")), else_=CONTACTS.c[column])


def _merge_contacts(plan: ContactPlan, tags: dict[str, int], owner: User, now: Any) -> None:
    merges = [(contact_id, target) for contact_id, target in sorted(plan.merges.items())]
    statement = (
        update(CONTACTS)
        .where(CONTACTS.c.id == bindparam("contact_id"))
        .values({**{c: _fill(c) for c in FILLABLE}, "updated_at": bindparam("now")})
    )
    for start in range(0, len(merges), CHUNK):
        chunk = merges[start : start + CHUNK]
        filled = [t for t in chunk if t[1].fills]
        if filled:
            rows = [
                {
                    "contact_id": i,
                    "now": now,
                    **{f"new_{c}": (t.fills or {}).get(c, None if c == "birthday" else "") for c in FILLABLE},
                }
                for i, t in filled
            ]
            db.session.connection().execute(statement, rows)
            changes = [
                {
                    "entity": "contact",
                    "entity_id": i,
                    "field": c,
                    "old_value": None if c == "birthday" else "",
                    "new_value": as_text(v),
                    "user_id": owner.id,
                    "at": now,
                }
                for i, t in filled
                for c, v in (t.fills or {}).items()
            ]
            db.session.execute(insert(FieldChange.__table__), changes)
        links = [{"contact_id": i, "tag_id": tags[name]} for i, t in chunk for name in t.new_tags or ()]
        if links:
            db.session.execute(insert(contact_tags), links)


def write_contacts(plan: ContactPlan, *, via: str, actor: User | None, filename: str) -> Imported:
    """Carry the plan out, all of it or nothing: any bad row refuses the whole file (the caller commits)."""
    if plan.bad_rows:
        raise BadRows(plan.bad_rows)
    done = Imported(
        created=plan.counts[CREATE],
        merged=plan.counts[MERGE],
        skipped=plan.counts[SKIP],
        accounts=len(plan.new_accounts) + plan.people_accounts,
        tags=len(plan.new_tags),
    )
    record(  # first: on SQLite this write takes the database's write lock, which allocate_ids relies on
        "import_contacts",
        via=via,
        user=actor,
        file=filename,
        owner=plan.owner.email,
        created=done.created,
        merged=done.merged,
        skipped=done.skipped,
        accounts_created=done.accounts,
        tags_created=done.tags,
    )
    now = utcnow()
    tags = _new_tags(plan, now)
    accounts = _company_accounts(plan, now)
    _create_contacts(plan, accounts, tags, now)
    _merge_contacts(plan, tags, plan.owner, now)
    db.session.expire_all()  # the session's objects may be stale: the rows changed beneath it
    return done
