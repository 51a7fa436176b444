"""The protocol comparison page: population concentration bands of up to four protocols on one
chart. A GET form about no patient, so nothing is stored or audited; the model is
:mod:`ketacare.clinical.pk`'s and the drawing :mod:`.charts`'."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.roles import Perm
from ketacare.clinical import pk
from ketacare.pk.charts import check, compare_chart
from ketacare.pk.forms import ARMS, DEFAULTS, CompareForm

FIELDS = ("route", "dose", "unit", "infusion_min")


@requires(Perm.CLINICAL_VIEW)
def compare(request: StaffRequest) -> HttpResponse:
    """Population bands of several protocols on one chart (a GET form: nothing is stored)."""
    form = CompareForm(request.GET or _defaults())
    chart = None
    if form.is_valid():
        arms, weight = form.arms(), float(form.cleaned_data["weight_kg"])
        for number, protocol in arms:
            try:
                check(protocol, weight)
            except pk.InvalidRegimen as exc:
                form.add_error(f"dose_{number}", str(exc))
        if not arms:
            form.add_error(None, "Choose at least one protocol.")
        if form.is_valid():
            chart = compare_chart([p for _, p in arms], weight)
    rows = [
        {"number": i, **{name: form[f"{name}_{i}"] for name in FIELDS}} for i in range(1, ARMS + 1)
    ]
    return render(request, "pk/compare.html", {"form": form, "chart": chart, "rows": rows})


def _defaults() -> dict[str, object]:
    data: dict[str, object] = {"weight_kg": 70}
    for i, d in enumerate(DEFAULTS, start=1):
        data |= {f"{k}_{i}": v for k, v in d.items()}
    return data
