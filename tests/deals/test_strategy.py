"""The strategy (策略): the advisor's rule, the strategy page, choosing with a rationale, and the history."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from markupsafe import escape

from pipeline.auth.models import User
from pipeline.core.changelog import FieldChange
from pipeline.core.errors import Conflict, InvalidInput
from pipeline.deals import services
from pipeline.deals.method import STRATEGIES, STRATEGY_BY_KEY, STRATEGY_KEYS
from pipeline.deals.models import Deal
from pipeline.deals.strategy import (
    QUESTION_BY_KEY,
    QUESTION_KEYS,
    Answers,
    advise,
    choose_strategy,
    strategy_history,
)
from pipeline.extensions import db
from tests.conftest import People, counting_statements
from tests.pages import plain, reload, section, text

STALE_MESSAGE = "此商机刚被其他人修改过，请重新加载页面。"


def answers(**given: bool) -> Answers:
    """Every answer "yes" unless given."""
    return Answers(**{key: given.get(key, True) for key in QUESTION_KEYS})


ALL_ANSWERS = [
    Answers(**dict(zip(QUESTION_KEYS, values, strict=True))) for values in itertools.product((True, False), repeat=5)
]


# ---- The method's words ------------------------------------------------------------------------------------


def test_every_strategy_says_when_it_fits_and_how_it_is_played_in_both_languages() -> None:
    assert [s.key for s in STRATEGIES] == [
        "frontal",
        "flanking",
        "divide_and_conquer",
        "develop_for_future",
        "fortify_to_defend",
    ]
    for s in STRATEGIES:
        assert s.when_it_fits("zh") == s.fits and s.how_it_is_played("zh") == s.play
        assert s.when_it_fits("en") == s.fits_en and s.how_it_is_played("en") == s.play_en
        assert s.fits_en.isascii() and s.play_en.replace("→", "").isascii()
        assert not s.fits.isascii() and not s.play.isascii()
    assert STRATEGY_BY_KEY["fortify_to_defend"].when_it_fits("en") == (
        "We are the incumbent supplier facing a new opportunity"
    )


# ---- The advisor --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # no opportunity yet: invest for the next project, whatever else is true
        ({"opportunity": False}, "develop_for_future"),
        ({"opportunity": False, "incumbent": False, "competitor_better": False}, "develop_for_future"),
        ({"opportunity": False, "can_win_all": False, "ahead": False}, "develop_for_future"),
        # the incumbent with an opportunity defends, even against a better-placed competitor
        ({"incumbent": True, "ahead": False, "competitor_better": True}, "fortify_to_defend"),
        ({"incumbent": True, "can_win_all": False}, "fortify_to_defend"),
        # not the incumbent and the whole cannot be won: win one part first, even with a clear lead
        ({"incumbent": False, "can_win_all": False, "ahead": True, "competitor_better": False}, "divide_and_conquer"),
        ({"incumbent": False, "can_win_all": False, "ahead": False, "competitor_better": True}, "divide_and_conquer"),
        # clearly ahead and the competitor not better placed: head-on
        ({"incumbent": False, "ahead": True, "competitor_better": False}, "frontal"),
        # the competitor better placed and the whole can be won: new ground
        ({"incumbent": False, "ahead": False, "competitor_better": True}, "flanking"),
        # "clearly ahead" and "competitor better placed" contradict: no frontal attack without a clear lead
        ({"incumbent": False, "ahead": True, "competitor_better": True}, "flanking"),
        # neither clearly ahead nor behind: no head-on attack either
        ({"incumbent": False, "ahead": False, "competitor_better": False}, "flanking"),
    ],
)
def test_the_advisor_follows_the_methods_when_it_fits(given: dict[str, bool], expected: str) -> None:
    assert advise(answers(**given)).strategy == expected


@pytest.mark.parametrize("given", ALL_ANSWERS, ids=lambda a: "".join("y" if v else "n" for v in a.as_dict().values()))
def test_every_combination_of_answers_gets_a_strategy_and_an_honest_reason(given: Answers) -> None:
    advice = advise(given)
    assert advice.strategy in STRATEGY_KEYS
    strategy = STRATEGY_BY_KEY[advice.strategy]
    assert strategy.label("zh") in advice.reason("zh") and strategy.label("en") in advice.reason("en")
    # the reason names each answer that decided, as it was given
    for key in advice.decided_by:
        question = QUESTION_BY_KEY[key]
        assert question.said(getattr(given, key), "zh") in advice.reason_zh
        assert question.said(getattr(given, key), "en") in advice.reason_en
    # and only those decided: changing any other answer does not change the advice
    for key in set(QUESTION_KEYS) - set(advice.decided_by):
        flipped = replace(given, **{key: not getattr(given, key)})
        assert advise(flipped).strategy == advice.strategy, key


def test_each_of_the_five_strategies_can_be_suggested() -> None:
    assert {advise(a).strategy for a in ALL_ANSWERS} == set(STRATEGY_KEYS)


def test_the_reason_says_which_answers_led_there() -> None:
    advice = advise(answers(opportunity=True, incumbent=False, can_win_all=True, competitor_better=True))
    assert advice.reason_zh.startswith(
        "因为已经有机会，我们不是现有供应商，我们能赢得整个机会，竞争对手处于更有利的位置，建议出其不意。"
    )
    assert advice.reason_en.startswith(
        "Because there is an opportunity, we are not the incumbent, we can win all of it, "
        "the competitor is better placed, the advice is Flanking."
    )


# ---- The service ---------------------------------------------------------------------------------------------


def test_choosing_needs_a_rationale_for_a_new_strategy_and_a_current_version(
    people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    with pytest.raises(InvalidInput) as missing:
        choose_strategy(people.rep, deal, "frontal", "  ", deal.version)
    assert set(missing.value.fields) == {"strategy_rationale"}
    with pytest.raises(InvalidInput) as unknown:
        choose_strategy(people.rep, deal, "bluff", "因为", deal.version)
    assert set(unknown.value.fields) == {"strategy"}
    choose_strategy(people.rep, deal, "frontal", "产品领先", deal.version)
    db.session.commit()
    with pytest.raises(InvalidInput) as same_words:
        choose_strategy(people.rep, deal, "flanking", "产品领先", deal.version)
    assert set(same_words.value.fields) == {"strategy_rationale"}
    with pytest.raises(Conflict):
        choose_strategy(people.rep, deal, "flanking", "对手降价", deal.version - 1)
    assert choose_strategy(people.rep, deal, "frontal", "产品和服务都领先", deal.version) == {
        "strategy_rationale": ("产品领先", "产品和服务都领先")
    }
    db.session.commit()
    assert (reload(deal).strategy, reload(deal).strategy_rationale) == ("frontal", "产品和服务都领先")


def test_the_history_pairs_each_change_with_its_rationale_in_one_query(
    people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep, strategy="develop_for_future", strategy_rationale="还没有预算")
    moments = [datetime(2026, 3, day, 2, 0, tzinfo=UTC) for day in (1, 2, 3, 4)]
    choose_strategy(people.rep, deal, "frontal", "预算批了，我们领先", deal.version, at=moments[0])
    choose_strategy(people.lead, deal, "frontal", "预算批了，我们明显领先", deal.version, at=moments[1])
    services.update_deal(people.lead, deal, {"strategy": "flanking"}, deal.version, at=moments[2])  # no new words
    choose_strategy(people.rep, deal, "divide_and_conquer", "对手已占住总部，先拿分公司", deal.version, at=moments[3])
    db.session.commit()
    fresh = reload(deal)
    with counting_statements() as statements:
        history = strategy_history(fresh)
    assert len(statements) == 1
    assert [(h.kind, h.who, h.from_key, h.to_key, h.rationale) for h in history] == [
        ("changed", "王芳", "flanking", "divide_and_conquer", "对手已占住总部，先拿分公司"),
        ("changed", "李经理", "frontal", "flanking", "预算批了，我们明显领先"),
        ("reworded", "李经理", "frontal", "frontal", "预算批了，我们明显领先"),
        ("changed", "王芳", "develop_for_future", "frontal", "预算批了，我们领先"),
        ("initial", "", None, "develop_for_future", "还没有预算"),
    ]
    assert [h.at for h in history[:4]] == moments[::-1]


# ---- The page --------------------------------------------------------------------------------------------------


def test_the_page_shows_the_five_strategies_with_the_current_one_marked(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep, strategy="flanking", strategy_rationale="对手价格更低")
    response = browser(people.rep).get(f"/deals/{deal.id}/strategy")
    assert response.status_code == 200
    page = text(response)
    for s in STRATEGIES:
        card = section(page, f"strategy-{s.key}")
        assert s.label_zh in card
        assert str(escape(s.fits)) in card and str(escape(s.play)) in card
        assert ("当前" in card) == (s.key == "flanking")
    assert 'class="card strategy-card is-current" id="strategy-flanking"' in page
    current = plain(section(page, "current-strategy"))
    assert "出其不意" in current and "对手价格更低" in current
    assert 'name="opportunity"' in page and 'type="radio"' in page


def test_the_advisor_suggests_with_its_reason_and_prefills_the_choice(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    client = browser(people.rep)
    query = "opportunity=yes&incumbent=no&can_win_all=no&ahead=yes&competitor_better=no"
    response = client.get(f"/deals/{deal.id}/strategy?{query}")
    assert response.status_code == 200
    page = text(response)
    advice = plain(section(page, "advice"))
    assert "建议的策略： 分而治之" in advice
    expected = advise(answers(incumbent=False, can_win_all=False, competitor_better=False))
    assert str(escape(expected.reason_zh)) in section(page, "advice")
    assert re.search(r'value="yes" checked|checked[^>]*value="yes"', page)  # the answers stay on the form
    assert 'is-suggested" id="strategy-divide_and_conquer"' in page
    assert reload(deal).strategy is None  # suggesting changes nothing
    button = re.search(r'<form method="get"[^>]*#choose">(.*?)</form>', page, re.S)
    assert button and 'name="pick" value="divide_and_conquer"' in button.group(1)
    prefilled = text(client.get(f"/deals/{deal.id}/strategy?{query}&pick=divide_and_conquer"))
    choose = section(prefilled, "choose")
    assert re.search(
        r'<option selected value="divide_and_conquer">|<option value="divide_and_conquer" selected', choose
    )
    assert str(escape(expected.reason_zh)) in choose
    ignored = text(client.get(f"/deals/{deal.id}/strategy?{query}&pick=frontal"))  # only the advice can be picked
    assert str(escape(expected.reason_zh)) not in section(ignored, "choose")


def test_an_unanswered_question_is_named_next_to_it(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    response = browser(people.rep).get(f"/deals/{deal.id}/strategy?opportunity=yes&incumbent=maybe")
    assert response.status_code == 422
    page = text(response)
    assert 'id="advice"' not in page
    for key in ("can_win_all", "ahead", "competitor_better"):
        assert "请回答这个问题。" in section(page, key)
    assert 'id="opportunity-error"' not in page
    assert 'id="incumbent-error"' in page


def test_choosing_saves_and_the_history_shows_who_when_and_why(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    client = browser(people.rep)
    response = client.post(
        f"/deals/{deal.id}/strategy",
        data={"strategy": "frontal", "strategy_rationale": "  产品和口碑都明显领先  ", "version": deal.version},
    )
    assert response.status_code == 302
    assert response.location == f"/deals/{deal.id}/strategy#strategy-history"
    saved = reload(deal)
    assert (saved.strategy, saved.strategy_rationale) == ("frontal", "产品和口碑都明显领先")
    lead = browser(people.lead)
    response = lead.post(
        f"/deals/{deal.id}/strategy",
        data={"strategy": "flanking", "strategy_rationale": "对手降价三成，改打服务", "version": saved.version},
    )
    assert response.status_code == 302
    page = text(lead.get(response.location))
    assert "策略已保存。" in page
    entries = [
        plain(e) for e in re.findall(r'<li class="entry[^"]*">(.*?)</li>', section(page, "strategy-history"), re.S)
    ]
    assert len(entries) == 2
    assert "李经理" in entries[0] and "正面出击 → 出其不意" in entries[0] and "对手降价三成，改打服务" in entries[0]
    assert "王芳" in entries[1] and "— → 正面出击" in entries[1] and "产品和口碑都明显领先" in entries[1]
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", entries[0])
    deal_page = text(lead.get(f"/deals/{deal.id}"))
    block = plain(section(deal_page, "deal-strategy"))
    assert "出其不意" in block and "对手降价三成，改打服务" in block
    assert f'href="/deals/{deal.id}/strategy"' in deal_page


def test_a_change_of_strategy_without_a_rationale_is_refused(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep, strategy="frontal", strategy_rationale="产品领先")
    client = browser(people.rep)
    empty = client.post(
        f"/deals/{deal.id}/strategy", data={"strategy": "flanking", "strategy_rationale": " ", "version": deal.version}
    )
    assert empty.status_code == 422
    assert "请说明为什么选择这个策略。" in section(text(empty), "choose")
    assert '<a href="#strategy_rationale">' in section(text(empty), "refusal")
    same = client.post(
        f"/deals/{deal.id}/strategy",
        data={"strategy": "flanking", "strategy_rationale": "产品领先", "version": deal.version},
    )
    assert same.status_code == 422
    assert "请给出新策略的理由：这仍是之前策略的理由。" in text(same)
    assert reload(deal).strategy == "frontal"
    reworded = client.post(
        f"/deals/{deal.id}/strategy",
        data={"strategy": "frontal", "strategy_rationale": "产品领先，价格也合适", "version": deal.version},
    )
    assert reworded.status_code == 302  # keeping the strategy, the rationale may just be reworded
    assert reload(deal).strategy_rationale == "产品领先，价格也合适"
    assert db.session.query(FieldChange).filter_by(entity_id=deal.id, field="strategy").count() == 0


def test_a_choice_from_a_stale_page_is_refused(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    seen = deal.version
    services.update_deal(people.lead, deal, {"next_step": "约张总"}, expected_version=seen)
    db.session.commit()
    response = browser(people.rep).post(
        f"/deals/{deal.id}/strategy", data={"strategy": "frontal", "strategy_rationale": "领先", "version": seen}
    )
    assert response.status_code == 409
    assert STALE_MESSAGE in text(response)
    assert "领先" in section(text(response), "choose")  # what was typed stays
    assert reload(deal).strategy is None


def test_someone_elses_deal_answers_404_on_every_strategy_route(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    theirs = make_deal(people.rep_b, "张伟的商机")
    client = browser(people.rep)
    assert client.get(f"/deals/{theirs.id}/strategy").status_code == 404
    assert client.get(f"/deals/{theirs.id}/strategy?opportunity=no").status_code == 404
    forged = client.post(
        f"/deals/{theirs.id}/strategy",
        data={"strategy": "frontal", "strategy_rationale": "越权", "version": theirs.version},
    )
    assert forged.status_code == 404
    assert client.get("/deals/999999/strategy").status_code == 404
    assert browser(people.other_lead).get(f"/deals/{theirs.id}/strategy").status_code == 404
    assert reload(theirs).strategy is None
    assert browser(people.lead).get(f"/deals/{theirs.id}/strategy").status_code == 200


def test_the_strategy_page_in_english(
    browser: Callable[[User], FlaskClient], people: People, make_deal: Callable[..., Deal]
) -> None:
    deal = make_deal(people.rep)
    client = browser(people.rep)
    client.post("/lang", data={"lang": "en", "next": "/deals"})
    page = text(
        client.get(
            f"/deals/{deal.id}/strategy?opportunity=no&incumbent=no&can_win_all=no&ahead=no&competitor_better=no"
        )
    )
    assert "Is there an opportunity yet?" in page
    assert str(escape(STRATEGY_BY_KEY["flanking"].play_en)) in section(page, "strategy-flanking")
    assert "Because there is no opportunity yet, the advice is Develop for the future." in page


class TestCsrf:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_choice_without_the_pages_token_is_refused(
        self, client: FlaskClient, people: People, make_deal: Callable[..., Deal]
    ) -> None:
        deal = make_deal(people.rep)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text(client.get("/login")))
        assert token
        client.post("/login", data={"email": "rep@example.com", "password": "rep-pass-1", "csrf_token": token.group(1)})
        data = {"strategy": "frontal", "strategy_rationale": "领先", "version": deal.version}
        assert client.post(f"/deals/{deal.id}/strategy", data=data).status_code == 400
        assert reload(deal).strategy is None
        page = text(client.get(f"/deals/{deal.id}/strategy?opportunity=yes"))  # the GET advisor needs no token
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', section(page, "choose"))
        assert token
        response = client.post(f"/deals/{deal.id}/strategy", data={**data, "csrf_token": token.group(1)})
        assert response.status_code == 302
        assert reload(deal).strategy == "frontal"
