"""The planned dose's predicted curve on the plan page, and the protocol comparison page."""

from __future__ import annotations

import base64
from datetime import date, time

import pytest
from django.test import Client

from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.patients.models import Patient
from ketacare.pk.charts import planned_dose_chart
from ketacare.plans import selectors, services
from ketacare.plans.models import TreatmentPlan
from tests.conftest import login

pytestmark = pytest.mark.django_db


def plan(patient: Patient, protocol_id: str) -> TreatmentPlan:
    request = services.PlanRequest(
        protocol_id=protocol_id, start_on=date(2026, 12, 7), start_time=time(9, 30), chair="Chair 2"
    )
    return services.create_plan(Actor.system("t"), patient, request)


def svg_of(img_src: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert img_src.startswith(prefix)
    return base64.b64decode(img_src.removeprefix(prefix)).decode()


def test_the_planned_dose_chart_shows_the_curve_the_band_and_the_model() -> None:
    chart = planned_dose_chart("iv", 35.0, 70.0, 40.0)
    assert chart.model_id == "domino"
    assert chart.cmax == pytest.approx(240.3, abs=0.1)
    assert "peak 240 ng/mL at 40 min" in chart.alt
    assert "within 100-250 ng/mL" in chart.alt
    svg = svg_of(chart.img_src)
    assert "dissociative 100-250 ng/mL (Krystal 1994)" in svg
    assert chart.band.low == 100
    assert "Krystal 1994" in chart.band.source
    assert planned_dose_chart("iv", 35.0, 70.0, 40.0).img_src == chart.img_src  # deterministic


def test_the_esketamine_chart_uses_perez_ruixo_with_devices_five_minutes_apart() -> None:
    chart = planned_dose_chart("esketamine", 84.0, None, None)
    assert chart.model_id == "perez-ruixo-2021"
    assert chart.analyte == "esketamine"
    assert any("0.54 x 0.62" in a for a in chart.assumptions)


def test_the_iv_plan_page_shows_the_predicted_curve(
    client: Client, prescriber: User, patient: Patient
) -> None:
    p = plan(patient, "iv-racemic")
    html = login(client, prescriber).get(f"/plans/{p.pk}/").content.decode()
    assert 'id="predicted"' in html
    assert '<img src="data:image/svg+xml;base64,' in html
    assert "Domino (racemic ketamine, 3-compartment)" in html
    assert "Krystal 1994" in html
    assert selectors.plan_chart(p) is not None


def test_an_esketamine_plan_is_shown_with_the_nasal_spray_model(patient: Patient) -> None:
    chart = selectors.plan_chart(plan(patient, "esketamine-nasal"))
    assert chart is not None
    assert chart.model_id == "perez-ruixo-2021"


def test_a_plan_without_a_session_to_give_has_no_curve(patient: Patient) -> None:
    p = plan(patient, "im-racemic")
    p.sessions.update(status="cancelled")
    assert selectors.plan_chart(p) is None


def test_a_dose_the_model_cannot_take_gives_no_curve(patient: Patient) -> None:
    p = plan(patient, "esketamine-nasal")
    p.sessions.update(dose_mg=30)
    assert selectors.plan_chart(p) is None


def test_a_clinic_iv_template_not_in_the_library_is_shown_over_40_minutes(
    patient: Patient,
) -> None:
    p = plan(patient, "iv-racemic")
    p.protocol_id = "clinic-iv"
    assert selectors._infusion_minutes(p) == 40
    p.route = "im"
    assert selectors._infusion_minutes(p) is None


def test_the_compare_page_overlays_the_four_example_protocols(client: Client, nurse: User) -> None:
    response = login(client, nurse).get("/pk/compare/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="comparison"' in html
    assert '<img src="data:image/svg+xml;base64,' in html
    for label in ("iv 0.5 mg/kg over 40 min", "im 0.5 mg/kg", "oral 2 mg/kg", "esketamine 84 mg"):
        assert label in html
    chart = response.context["chart"]
    assert [a.model_name.split(" ")[0] for a in chart.arms] == [
        "Domino", "Domino", "Domino", "Perez-Ruixo",
    ]  # fmt: skip
    iv, _im, oral, _esk = chart.arms
    assert iv.cmax[0] < iv.cmax[1] < iv.cmax[2]
    assert oral.cmax[1] < iv.cmax[1]
    assert "Predicted plasma concentrations by protocol" in chart.alt


def test_the_compare_form_takes_chosen_protocols_and_weight(client: Client, nurse: User) -> None:
    query = "weight_kg=90&route_1=sc&dose_1=1&unit_1=mg/kg&route_2=&unit_2=mg"
    response = login(client, nurse).get(f"/pk/compare/?{query}")
    assert [a.label for a in response.context["chart"].arms] == ["sc 1 mg/kg"]
    assert "No human SC data" in response.content.decode()


def test_the_compare_form_names_a_dose_the_model_cannot_take(client: Client, nurse: User) -> None:
    query = "weight_kg=70&route_1=esketamine&dose_1=30&unit_1=mg"
    response = login(client, nurse).get(f"/pk/compare/?{query}")
    assert response.context["chart"] is None
    assert "not a whole number of 28-mg devices" in response.context["form"].errors["dose_1"][0]


def test_the_compare_form_needs_a_protocol(client: Client, nurse: User) -> None:
    response = login(client, nurse).get("/pk/compare/?weight_kg=70&unit_1=mg")
    assert response.context["chart"] is None
    assert "Choose at least one protocol." in response.content.decode()


def test_the_front_desk_cannot_open_the_compare_page(
    client: Client, staff: dict[Role, User]
) -> None:
    assert login(client, staff[Role.FRONT_DESK]).get("/pk/compare/").status_code == 403
