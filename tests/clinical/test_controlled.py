from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketacare.clinical import controlled as c


def test_every_rule_has_a_value_and_a_source_in_words() -> None:
    r = c.rules()
    assert r.beyond_use_days.value == 28
    assert "USP General Chapter <797>" in r.beyond_use_days.source
    assert r.notice_business_days.value == 1
    assert "1301.76(b)" in r.notice_business_days.source
    assert r.form_106_days.value == 45
    assert "88 FR 40707" in r.form_106_days.source
    assert r.warn_days.source.startswith("ketacare's configurable default")
    assert "[" not in r.variance_percent.source


def test_mg_is_millilitres_times_concentration_and_back() -> None:
    assert c.mg_of(Decimal("3.5"), Decimal("10")) == Decimal("35.00")
    assert c.units_of(Decimal("56"), Decimal("28")) == Decimal("2.00")
    with pytest.raises(c.ControlledError, match="concentration"):
        c.units_of(Decimal("5"), Decimal("0"))


def test_a_balance_is_the_sum_of_its_entries() -> None:
    assert c.balance([Decimal("20"), Decimal("-3.5"), Decimal("-0.5")]) == Decimal("16")
    assert c.balance([]) == 0


@given(
    held=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
    drawn=st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100"), places=2),
    given_=st.decimals(min_value=Decimal("0"), max_value=Decimal("100"), places=2),
)
def test_drawn_is_always_administered_plus_wasted(
    held: Decimal, drawn: Decimal, given_: Decimal
) -> None:
    if given_ > drawn or drawn > held:
        with pytest.raises(c.ControlledError) as caught:
            c.split_draw(drawn, given_, held)
        assert caught.value.field == "drawn"
        return
    draw = c.split_draw(drawn, given_, held)
    assert draw.drawn == draw.administered + draw.wasted
    assert draw.wasted >= 0
    assert draw.drawn <= held


def test_a_draw_is_refused_when_it_cannot_be() -> None:
    with pytest.raises(c.ControlledError, match="more than zero"):
        c.split_draw(Decimal("0"), Decimal("0"), Decimal("10"))
    with pytest.raises(c.ControlledError, match="more than the container holds"):
        c.split_draw(Decimal("12"), Decimal("10"), Decimal("10"))
    with pytest.raises(c.ControlledError, match="more than the 3 drawn"):
        c.split_draw(Decimal("3"), Decimal("4"), Decimal("10"))


def test_an_opened_vial_is_usable_for_28_days_unless_the_product_says_otherwise() -> None:
    assert c.beyond_use_date(date(2026, 3, 1)) == date(2026, 3, 29)
    assert c.beyond_use_date(date(2026, 3, 1), days=7) == date(2026, 3, 8)


def test_a_container_is_unusable_when_expired_or_past_its_beyond_use_date() -> None:
    assert c.unusable(date(2026, 3, 2), date(2026, 3, 1), None) == "expired on 01 Mar 2026"
    assert "beyond-use" in (c.unusable(date(2026, 3, 2), date(2027, 1, 1), date(2026, 3, 1)) or "")
    assert c.unusable(date(2026, 3, 1), date(2026, 3, 1), date(2026, 3, 1)) is None


def test_only_the_concentrated_vial_needs_a_dilution_for_iv() -> None:
    assert c.needs_dilution("iv", Decimal("100"))
    assert not c.needs_dilution("iv", Decimal("50"))
    assert not c.needs_dilution("im", Decimal("100"))
    assert not c.needs_dilution("iv", None)


def test_business_days_skip_weekends_and_holidays() -> None:
    friday = date(2026, 3, 6)
    assert c.add_business_days(friday, 1) == date(2026, 3, 9)
    assert c.add_business_days(friday, 1, holidays=[date(2026, 3, 9)]) == date(2026, 3, 10)
    assert c.add_business_days(friday, 0) == friday


def test_the_biennial_inventory_is_due_in_two_years_and_warned_60_days_before() -> None:
    last = date(2025, 1, 10)
    assert c.biennial_due(last) == date(2027, 1, 10)
    assert not c.biennial_warning(last, date(2026, 11, 10))
    assert c.biennial_warning(last, date(2026, 11, 11))


def test_a_count_variance_needs_to_exceed_the_floor_and_the_share() -> None:
    assert c.variance(Decimal("10"), Decimal("9.5")) == Decimal("-0.5")
    assert not c.variance_exceeds(Decimal("10"), Decimal("9.95"), Decimal("20"))  # under the floor
    assert not c.variance_exceeds(
        Decimal("10"), Decimal("9.7"), Decimal("20")
    )  # 0.3 of 20 mL is 1.5%
    assert c.variance_exceeds(Decimal("10"), Decimal("9.5"), Decimal("20"))  # 2.5%


def test_a_named_patient_device_is_overdue_after_14_days() -> None:
    assert not c.unused_device_overdue(date(2026, 3, 1), date(2026, 3, 15))
    assert c.unused_device_overdue(date(2026, 3, 1), date(2026, 3, 16))


def test_an_infusion_is_short_below_90_percent_of_its_plan() -> None:
    assert c.short_infusion(40, 30)
    assert not c.short_infusion(40, 36)
    assert not c.short_infusion(None, 5)


def test_the_amount_given_is_stated_in_mg_or_ml() -> None:
    assert c.given_mg(Decimal("20"), "mg", None, Decimal("35")) == Decimal("20.00")
    assert c.given_mg(Decimal("50"), "mL", Decimal("0.35"), Decimal("35")) == Decimal("17.50")
    with pytest.raises(c.ControlledError, match="no concentration"):
        c.given_mg(Decimal("5"), "mL", None, Decimal("35"))
    with pytest.raises(c.ControlledError, match="mg or mL"):
        c.given_mg(Decimal("5"), "drops", None, Decimal("35"))
    with pytest.raises(c.ControlledError) as exc:
        c.given_mg(Decimal("40"), "mg", None, Decimal("35"))
    assert exc.value.field == "given_amount"
