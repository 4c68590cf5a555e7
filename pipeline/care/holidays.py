"""The Chinese holidays worth a greeting, with their real dates each year.

The statutory holidays (元旦, 春节, 清明, 劳动节, 端午, 中秋, 国庆) come from `holidays` (its China calendar knows the
lunar and solar-term dates); the traditional festivals that are not days off (元宵, 七夕, 重阳) from `lunardate`'s
lunar-to-solar conversion. The greeting's first day is each holiday's first day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache

from pipeline.deals.method import Choice

# Each greeting holiday: its key, names, and where its date comes from (the statutory name in the `holidays`
# China calendar, or a lunar month and day).
HOLIDAYS: tuple[Choice, ...] = (
    Choice("new_year", "元旦", "New Year's Day"),
    Choice("spring_festival", "春节", "Spring Festival"),
    Choice("lantern", "元宵节", "Lantern Festival"),
    Choice("qingming", "清明节", "Qingming Festival"),
    Choice("labour_day", "劳动节", "Labour Day"),
    Choice("dragon_boat", "端午节", "Dragon Boat Festival"),
    Choice("qixi", "七夕", "Qixi Festival"),
    Choice("mid_autumn", "中秋节", "Mid-Autumn Festival"),
    Choice("double_ninth", "重阳节", "Double Ninth Festival"),
    Choice("national_day", "国庆节", "National Day"),
)
HOLIDAY_KEYS: tuple[str, ...] = tuple(c.key for c in HOLIDAYS)
HOLIDAY_BY_KEY: dict[str, Choice] = {c.key: c for c in HOLIDAYS}
STATUTORY_NAMES: dict[str, str] = {  # the holiday's name in the `holidays` China calendar (zh_CN)
    "new_year": "元旦",
    "spring_festival": "春节",
    "qingming": "清明节",
    "labour_day": "劳动节",
    "dragon_boat": "端午节",
    "mid_autumn": "中秋节",
    "national_day": "国庆节",
}
LUNAR_DAYS: dict[str, tuple[int, int]] = {"lantern": (1, 15), "qixi": (7, 7), "double_ninth": (9, 9)}

# What each greeting says by default; {name} becomes the contact's name. The sender may rewrite it.
DEFAULT_GREETINGS: dict[str, str] = {
    "new_year": "{name}，新年快乐！感谢您过去一年的支持，祝您在新的一年事业顺利、身体健康！",
    "spring_festival": "{name}，新春快乐！恭祝您和家人阖家幸福、万事如意，感谢一直以来的信任与支持！",
    "lantern": "{name}，元宵节快乐！祝您团团圆圆、事事顺心！",
    "qingming": "{name}，清明时节，愿您踏青安好、身体健康。",
    "labour_day": "{name}，劳动节快乐！感谢您的支持，祝您假期愉快！",
    "dragon_boat": "{name}，端午安康！祝您和家人平安顺遂！",
    "qixi": "{name}，七夕快乐！愿您与家人甜蜜幸福！",
    "mid_autumn": "{name}，中秋快乐！月圆人团圆，祝您阖家幸福、事业兴旺！",
    "double_ninth": "{name}，重阳节快乐！祝您和家中长辈健康长寿！",
    "national_day": "{name}，国庆快乐！祝您假期愉快、万事顺意！",
}


@dataclass(frozen=True)
class HolidayDate:
    """One holiday on its date in one year."""

    key: str
    on: date

    def label(self, locale: str) -> str:
        return HOLIDAY_BY_KEY[self.key].label(locale)


@cache
def holidays_in(year: int) -> tuple[HolidayDate, ...]:
    """The greeting holidays of `year` in date order."""
    import holidays  # only the pages that show holidays pay for the library (4 MB), not every process
    from lunardate import LunarDate

    statutory = holidays.country_holidays("CN", years=year, language="zh_CN")
    first: dict[str, date] = {}
    for day, name in sorted(statutory.items()):
        for key, official in STATUTORY_NAMES.items():
            if name == official and key not in first:
                first[key] = day
    for key, (month, day) in LUNAR_DAYS.items():
        first[key] = LunarDate(year, month, day).to_solar_date()
    return tuple(sorted((HolidayDate(k, d) for k, d in first.items()), key=lambda h: h.on))


def upcoming(today: date, count: int = 6) -> list[HolidayDate]:
    """The next `count` holidays from today on (today's included), across the year's end."""
    found = [h for h in holidays_in(today.year) if h.on >= today]
    return (found + list(holidays_in(today.year + 1)))[:count]


def next_holiday(today: date) -> HolidayDate:
    """The first holiday today or later."""
    return upcoming(today, 1)[0]


def holiday_on(key: str, today: date) -> HolidayDate:
    """The holiday `key` on its next date from today (this year's, or next year's once it has passed)."""
    for holiday in (*holidays_in(today.year), *holidays_in(today.year + 1)):
        if holiday.key == key and holiday.on >= today:
            return holiday
    raise KeyError(key)
