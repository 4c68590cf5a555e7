"""SQL pieces the reports need on both databases: elapsed seconds and nearest-rank percentiles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Float, Integer, Numeric, case, func, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from pipeline.deals.models import Deal


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
