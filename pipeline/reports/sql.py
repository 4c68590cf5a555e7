"""SQL pieces the reports need on both databases: elapsed seconds and nearest-rank percentiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    Numeric,
    Select,
    String,
    Subquery,
    case,
    func,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from pipeline.deals.models import Deal
from pipeline.extensions import db


class seconds_between(FunctionElement[float]):
    """Seconds from the second moment to the first, as a float, on SQLite and PostgreSQL alike."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"((julianday({compiler.process(later, **kw)}) - julianday({compiler.process(earlier, **kw)})) * 86400.0)"


@compiles(seconds_between, "postgresql")
def _seconds_pg(element: seconds_between, compiler: Any, **kw: Any) -> str:
    later, earlier = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(later, **kw)} - {compiler.process(earlier, **kw)}))::float8"


def nearest_rank(value: Any, rank: Any, count: Any, percent: int) -> ColumnElement[Any]:
    """The value at rank ⌈percent·n/100⌉ of a window-numbered group, for MAX() to pick out (integer maths only)."""
    wanted = (count * percent + 99) // 100  # ⌈p·n⌉ in integer arithmetic, identical on both databases
    return func.max(case((rank == wanted.cast(Integer), value)))


def cents(text_value: Any) -> ColumnElement[Any]:
    """A logged amount ("1234.50") as whole cents."""
    return func.round(text_value.cast(Numeric(18, 2)) * 100).cast(BigInteger)


def raw_cents(column: Any) -> ColumnElement[int]:
    """A money column as the whole cents it stores, so sums and signs stay plain integer SQL."""
    return type_coerce(column, BigInteger)


DEAL_CENTS = raw_cents(Deal.__table__.c.amount_cents)


class year_month(FunctionElement[str]):
    """A date's "YYYY-MM", to group by month on SQLite and PostgreSQL alike."""

    type = String()
    inherit_cache = True


@compiles(year_month)
def _year_month_sqlite(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"strftime('%Y-%m', {compiler.process(next(iter(element.clauses)), **kw)})"


@compiles(year_month, "postgresql")
def _year_month_pg(element: year_month, compiler: Any, **kw: Any) -> str:
    return f"to_char({compiler.process(next(iter(element.clauses)), **kw)}, 'YYYY-MM')"


def quantiles(
    source: Subquery,
    group: str,
    value: str,
    percents: Sequence[int],
    extra: Callable[[Any], list[ColumnElement[Any]]] = lambda _c: [],
) -> Select[Any]:
    """Per group of `source`: the row count, `extra(columns)` aggregates, and each nearest-rank percentile of `value`.

    PostgreSQL sorts each group once in `percentile_disc`, whose rank ⌈p·n⌉ is computed in floating point: p is
    nudged down by 1e-9 so that an exact p·n is never rounded up past it (exact for any group under 10⁸ rows).
    Elsewhere the rows are numbered in a window and the wanted rank is picked out with integer maths.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        c = source.c
        return select(
            c[group],
            func.count(),
            *extra(c),
            *(func.percentile_disc(p / 100 - 1e-9).within_group(c[value]) for p in percents),
        ).group_by(c[group])
    ranked = select(
        source,
        func.row_number().over(partition_by=source.c[group], order_by=source.c[value]).label("rank_"),
        func.count().over(partition_by=source.c[group]).label("n_"),
    ).subquery()
    c = ranked.c
    return select(
        c[group], func.count(), *extra(c), *(nearest_rank(c[value], c.rank_, c.n_, p) for p in percents)
    ).group_by(c[group])
