"""The greeting holidays on their real dates (checked against published calendars), and the next one shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask.testing import FlaskClient

from pipeline.auth.models import User
from pipeline.care.holidays import holiday_on, holidays_in, next_holiday, upcoming
from tests.conftest import People
from tests.pages import plain, section, text

# From the State Council's holiday notices and the lunar calendar, written out by hand.
KNOWN = {
    2026: {
        "new_year": date(2026, 1, 1),
        "spring_festival": date(2026, 2, 17),
        "lantern": date(2026, 3, 3),
        "qingming": date(2026, 4, 5),
        "labour_day": date(2026, 5, 1),
        "dragon_boat": date(2026, 6, 19),
        "qixi": date(2026, 8, 19),
        "mid_autumn": date(2026, 9, 25),
        "national_day": date(2026, 10, 1),
        "double_ninth": date(2026, 10, 18),
    },
    2027: {
        "new_year": date(2027, 1, 1),
        "spring_festival": date(2027, 2, 6),
        "lantern": date(2027, 2, 20),
        "qingming": date(2027, 4, 5),
        "labour_day": date(2027, 5, 1),
        "dragon_boat": date(2027, 6, 9),
        "qixi": date(2027, 8, 8),
        "mid_autumn": date(2027, 9, 15),
        "national_day": date(2027, 10, 1),
        "double_ninth": date(2027, 10, 8),
    },
}


@pytest.mark.parametrize("year", sorted(KNOWN))
def test_every_holiday_falls_on_its_real_date(year: int) -> None:
    assert {h.key: h.on for h in holidays_in(year)} == KNOWN[year]


def test_the_next_holiday_crosses_the_year_end() -> None:
    assert (next_holiday(date(2026, 12, 2)).key, next_holiday(date(2026, 12, 2)).on) == ("new_year", date(2027, 1, 1))
    assert [h.key for h in upcoming(date(2026, 12, 2), 3)] == ["new_year", "spring_festival", "lantern"]
    assert next_holiday(date(2027, 2, 6)).key == "spring_festival"  # the day itself still counts
    assert holiday_on("mid_autumn", date(2026, 10, 1)).on == date(2027, 9, 15)  # this year's has passed


def test_the_greetings_page_shows_the_next_holiday_and_its_greeting(
    people: People, browser: Callable[[User], FlaskClient], today: date
) -> None:
    page = text(browser(people.rep).get("/care/greetings?holiday=mid_autumn"))
    coming = next_holiday(today)
    assert coming.label("zh") in plain(section(page, "next-holiday"))
    assert str(coming.on) in plain(section(page, "next-holiday"))
    assert "{name}，中秋快乐" in page
