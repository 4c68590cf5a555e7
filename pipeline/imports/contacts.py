"""The contact import's plan (the dry run): per row create, merge or skip, and every bad row with its reasons.

The file is read once; rows to create go to a spill file on disk, so memory holds only what finding duplicates
needs (each mobile and e-mail seen, and which fields each created row has). Duplicates are found by E.164
mobile, then by e-mail, first within the file, then among the contacts of the accounts the user may see.
A duplicate fills the empty fields of the contact it matches and adds its tags (merge), or, adding nothing,
is skipped. A new contact goes to the account named in its company column (matched by name, case and width
folded, among the accounts the user may see; else created, owned by the importer); a person without a
company gets an account of their own of kind B2C (个人客户), named after them, as the method counts people
and households as customers too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipeline.accounts.models import Account, Contact, Tag, contact_tags
from pipeline.auth.models import User
from pipeline.auth.scope import accounts_visible_to
from pipeline.core.errors import InvalidInput
from pipeline.exports.spill import Spill
from pipeline.extensions import db
from pipeline.imports import values
from pipeline.imports.mapping import CONTACT_HEADERS, apply_overrides, auto_map
from pipeline.imports.rows import FILLABLE, Candidate, candidate_reader
from pipeline.imports.tables import Table, open_table

CREATE, MERGE, SKIP = "create", "merge", "skip"
SAMPLE_ROWS = 20  # rows of each action the preview shows
CHUNK = 1_000

Progress = Callable[[int], None]


@dataclass(frozen=True)
class BadRow:
    """A row that cannot be imported: its line as Excel numbers it, and every reason."""

    line: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PlannedRow:
    """One row's fate, for the preview: what it becomes, and what it fills in when it merges."""

    line: int
    action: str
    name: str
    mobile: str
    email: str
    company: str
    target: str = ""  # for a merge or skip: the contact (or earlier line) it matches
    fills: tuple[str, ...] = ()


_NO_TAGS: frozenset[str] = frozenset()


@dataclass(slots=True)  # one per created row: kept small (no __dict__, no empty dict and list each)
class _Target:
    """What a duplicate is compared with: an earlier row of the file, or a contact in the database."""

    line: int = 0  # the earlier row's line, or 0 for a contact in the database
    contact_id: int | None = None
    label: str = ""
    filled: int = 0  # the FILLABLE fields it has, one bit each
    tags: frozenset[str] = frozenset()
    fills: dict[str, Any] | None = None  # values the duplicates bring (made when the first one does)
    new_tags: list[str] | None = None


@dataclass
class ContactPlan:
    """What a real run would do; also carries what the write needs (the spilled rows, the merges)."""

    kind: str
    encoding: str | None
    headers: list[str]
    mapping: dict[str, int]
    owner: User
    counts: dict[str, int] = field(default_factory=lambda: {CREATE: 0, MERGE: 0, SKIP: 0})
    bad_rows: list[BadRow] = field(default_factory=list)
    samples: dict[str, list[PlannedRow]] = field(default_factory=lambda: {CREATE: [], MERGE: [], SKIP: []})
    accounts: dict[str, int] = field(default_factory=dict)  # company key → visible account id
    new_accounts: dict[str, str] = field(default_factory=dict)  # company key → name as first written
    people_accounts: int = 0  # B2C accounts, one per new contact without a company
    tags: dict[str, int] = field(default_factory=dict)  # existing tag name → id
    new_tags: dict[str, None] = field(default_factory=dict)  # in the order first seen
    spill: Spill = field(default_factory=Spill)
    folds: dict[int, _Target] = field(default_factory=dict)  # line of a created row → what duplicates add
    merges: dict[int, _Target] = field(default_factory=dict)  # contact id → what the file adds to it

    @property
    def rows(self) -> int:
        return sum(self.counts.values()) + len(self.bad_rows)

    def close(self) -> None:
        self.spill.__exit__()

    def __enter__(self) -> ContactPlan:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _existing(user: User) -> tuple[dict[str, int], dict[str, int]]:
    """The contacts the user may see, by normalised mobile and by e-mail."""
    by_mobile: dict[str, int] = {}
    by_email: dict[str, int] = {}
    query = (
        select(Contact.id, Contact.mobile, Contact.email)
        .join(Account, Account.id == Contact.account_id)
        .where(accounts_visible_to(user))
        .order_by(Contact.id)
        .execution_options(yield_per=10_000)
    )
    for contact_id, mobile, email in db.session.execute(query):
        if mobile:
            try:
                by_mobile.setdefault(values.phone(mobile), contact_id)
            except values.BadValue:
                by_mobile.setdefault(mobile, contact_id)
        if email:
            by_email.setdefault(email.strip().lower(), contact_id)
    return by_mobile, by_email


def _visible_accounts(user: User) -> dict[str, int]:
    """The B2B accounts the user may see, by folded name; the user's own first, then the oldest."""
    found: dict[str, int] = {}
    query = (
        select(Account.id, Account.name, Account.owner_id)
        .where(accounts_visible_to(user), Account.kind == "b2b")
        .order_by(Account.id)
    )
    rows = sorted(db.session.execute(query), key=lambda r: (r.owner_id != user.id, r.id))
    for account_id, name, _owner in rows:
        found.setdefault(values.key(name), account_id)
    return found


def mapping_for(
    table: Table, overrides: dict[str, str] | None = None, columns: dict[str, int] | None = None
) -> dict[str, int]:
    """The columns' fields: as chosen on the preview page (`columns`), or recognised headers then --map choices."""
    if columns is not None:
        wrong = {
            f: "no such column"
            for f, i in columns.items()
            if f not in CONTACT_HEADERS or not 0 <= i < len(table.headers)
        }
        if wrong:
            raise InvalidInput(wrong)
        return dict(columns)
    return apply_overrides(auto_map(table.headers, CONTACT_HEADERS), table.headers, overrides or {}, CONTACT_HEADERS)


class _Planner:
    """Walks the rows once, deciding each one's fate."""

    def __init__(self, plan: ContactPlan) -> None:
        self.plan = plan
        self.by_mobile, self.by_email = _existing(plan.owner)
        self.seen: dict[str, _Target] = {}  # mobile or e-mail → the row or contact it belongs to
        self.pending: dict[int, list[Candidate]] = {}  # contact id → rows matching it, decided after the walk
        self._tag_sets: dict[tuple[str, ...], frozenset[str]] = {}
        self.buffer: list[tuple[Any, ...]] = []

    def _frozen(self, tags: tuple[str, ...]) -> frozenset[str]:
        if tags not in self._tag_sets:
            self._tag_sets[tags] = frozenset(tags)
        return self._tag_sets[tags]

    def _target(self, row: Candidate) -> _Target | None:
        """What the row duplicates: by mobile first, then by e-mail; in the file first, then in the database."""
        seen = self.seen
        for key, database in ((row.mobile, self.by_mobile), (row.email, self.by_email)):
            if not key:
                continue
            found = seen.get(key)
            if found is not None:
                return found
            contact_id = database.get(key)
            if contact_id is not None:
                target = self.plan.merges.setdefault(contact_id, _Target(contact_id=contact_id))
                seen[key] = target
                return target
        return None

    def _remember(self, row: Candidate, target: _Target) -> None:
        for key in (row.mobile, row.email):
            if key:
                self.seen.setdefault(key, target)

    def _sample(self, planned: PlannedRow) -> None:
        shown = self.plan.samples[planned.action]
        if len(shown) < SAMPLE_ROWS:
            shown.append(planned)

    def take(self, row: Candidate) -> None:
        target = self._target(row)
        if target is None:
            self._create(row)
        elif target.contact_id is not None:
            self.pending.setdefault(target.contact_id, []).append(row)
            self._remember(row, target)
        else:
            action, fills = fold(target, row)
            self._count(row, action, fills, f"#{target.line}")
            self._remember(row, target)

    def _count(self, row: Candidate, action: str, fills: tuple[str, ...], label: str) -> None:
        self.plan.counts[action] += 1
        if len(self.plan.samples[action]) < SAMPLE_ROWS:
            self._sample(PlannedRow(row.line, action, row.name, row.mobile, row.email, row.company, label, fills))
        if action == MERGE:
            self._tags(row.tags)

    def _tags(self, tags: tuple[str, ...]) -> None:
        for tag in tags:
            if tag not in self.plan.tags:
                self.plan.new_tags.setdefault(tag, None)

    def _create(self, row: Candidate) -> None:  # runs for nearly every row: the helpers' work is written inline
        plan = self.plan
        company_written, tags, line = row.company, row.tags, row.line
        if company_written:
            company = values.key(company_written)
            if company not in plan.accounts and company not in plan.new_accounts:
                plan.new_accounts[company] = company_written
        else:
            plan.people_accounts += 1
        target = _Target(line, None, "", row.filled(), self._frozen(tags) if tags else _NO_TAGS)
        seen = self.seen
        if row.mobile:
            seen.setdefault(row.mobile, target)
        if row.email:
            seen.setdefault(row.email, target)
        if tags:
            self._tags(tags)
        buffer = self.buffer
        buffer.append(tuple(row))
        if len(buffer) == CHUNK:  # spilled a chunk at a time: one pickle per chunk is cheaper than per row
            plan.spill.add(tuple(buffer))
            buffer.clear()
        plan.counts[CREATE] += 1
        if len(plan.samples[CREATE]) < SAMPLE_ROWS:
            self._sample(PlannedRow(line, CREATE, row.name, row.mobile, row.email, company_written))

    def resolve_pending(self) -> None:
        """Decide the rows that match contacts in the database, reading those contacts a chunk at a time."""
        if self.buffer:
            self.plan.spill.add(tuple(self.buffer))
            self.buffer.clear()
        ids = sorted(self.pending)
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            columns = [Contact.id, Contact.name, *(getattr(Contact, f) for f in FILLABLE)]
            found = {r.id: r for r in db.session.execute(select(*columns).where(Contact.id.in_(chunk)))}
            tags: dict[int, set[str]] = {}
            query = select(contact_tags.c.contact_id, Tag.name).join(Tag).where(contact_tags.c.contact_id.in_(chunk))
            for contact_id, name in db.session.execute(query):
                tags.setdefault(contact_id, set()).add(name)
            for contact_id in chunk:
                existing = found[contact_id]
                target = self.plan.merges[contact_id]
                target.label = existing.name
                target.filled = sum(1 << i for i, f in enumerate(FILLABLE) if getattr(existing, f))
                target.tags = frozenset(tags.get(contact_id, ()))
                for row in self.pending[contact_id]:
                    action, fills = fold(target, row)
                    self._count(row, action, fills, existing.name)
        self.plan.merges = {k: v for k, v in self.plan.merges.items() if v.fills or v.new_tags}
        # A created row's record is in `seen` under its mobile or e-mail (without either, nothing can match it):
        # no second dict of every created row is kept just for this.
        self.plan.folds = {t.line: t for t in self.seen.values() if t.contact_id is None and (t.fills or t.new_tags)}
        for shown in self.plan.samples.values():
            shown.sort(key=lambda r: r.line)


def fold(target: _Target, row: Candidate) -> tuple[str, tuple[str, ...]]:
    """Fold a duplicate into what it matches: fill the empty fields, add the new tags; merge, or skip if nothing."""
    fills: list[str] = []
    if target.fills is None:
        target.fills, target.new_tags = {}, []
    for i, name in enumerate(FILLABLE):
        value = getattr(row, name)
        if value and not target.filled & (1 << i):
            target.filled |= 1 << i
            target.fills[name] = value
            fills.append(name)
    assert target.new_tags is not None
    new = [t for t in row.tags if t not in target.tags and t not in target.new_tags]
    target.new_tags.extend(new)
    fills.extend(f"tag:{t}" for t in new)
    return (MERGE if fills else SKIP), tuple(fills)


def _rows(table: Table, progress: Progress | None) -> Iterator[tuple[int, list[str]]]:
    last = 0
    for n, (line, cells) in enumerate(table.rows):
        if progress is not None and n % 1_000 == 0:
            now = table.done(line)
            progress(now - last)
            last = now
        if any(cells):
            yield line, cells
    if progress is not None:
        progress(max(table.total - last, 0))


def plan_table(
    table: Table,
    owner: User,
    overrides: dict[str, str] | None = None,
    progress: Progress | None = None,
    columns: dict[str, int] | None = None,
) -> ContactPlan:
    """Decide every row's fate without changing anything."""
    plan = ContactPlan(table.kind, table.encoding, table.headers, mapping_for(table, overrides, columns), owner)
    try:
        plan.accounts = _visible_accounts(owner)
        plan.tags = {name: tag_id for name, tag_id in db.session.execute(select(Tag.name, Tag.id))}
        planner = _Planner(plan)
        read = candidate_reader(plan.mapping)
        for line, cells in _rows(table, progress):
            row = read(line, cells)
            if isinstance(row, Candidate):
                planner.take(row)
            else:
                plan.bad_rows.append(BadRow(line, tuple(row)))
        planner.resolve_pending()
    except BaseException:
        plan.close()
        raise
    return plan


def plan_file(
    path: Path,
    owner: User,
    *,
    filename: str = "",
    encoding: str | None = None,
    overrides: dict[str, str] | None = None,
    columns: dict[str, int] | None = None,
    progress: Progress | None = None,
    on_open: Callable[[Table], None] | None = None,
) -> ContactPlan:
    """Open the file and plan its import (the caller closes the plan)."""
    with open_table(path, filename, encoding) as table:
        if on_open is not None:
            on_open(table)
        return plan_table(table, owner, overrides, progress, columns)
