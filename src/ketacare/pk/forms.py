"""The protocol comparison form: up to four arms (route, dose, unit, IV minutes) for one weight,
first filled with the standard infusion, IM, oral and the top esketamine nasal dose.
:meth:`CompareForm.arms` turns the filled-in arms into regimens; whether the model can take
one is checked by the view, through :mod:`.charts`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from ketacare.clinical import pk
from ketacare.clinical.pk.population import WEIGHT_RANGE_KG
from ketacare.pk.charts import Protocol

ARMS = 4
ROUTES = [("", "—"), ("iv", "IV"), ("im", "IM"), ("sc", "SC"), ("oral", "oral"),
          ("sublingual", "sublingual"), ("esketamine", "esketamine nasal")]  # fmt: skip
UNITS = [("mg/kg", "mg/kg"), ("mg", "mg")]
# The example comparison: the standard infusion, IM, oral and the top nasal dose.
DEFAULTS: list[dict[str, Any]] = [
    {"route": "iv", "dose": Decimal("0.5"), "unit": "mg/kg", "infusion_min": 40},
    {"route": "im", "dose": Decimal("0.5"), "unit": "mg/kg"},
    {"route": "oral", "dose": Decimal("2"), "unit": "mg/kg"},
    {"route": "esketamine", "dose": Decimal("84"), "unit": "mg"},
]


class CompareForm(forms.Form):
    """Up to four protocols (route, dose, unit, IV minutes) for one patient weight."""

    # The weights the population simulation accepts.
    weight_kg = forms.DecimalField(
        label="Weight (kg)",
        min_value=Decimal(f"{WEIGHT_RANGE_KG[0]:g}"),
        max_value=Decimal(f"{WEIGHT_RANGE_KG[1]:g}"),
        initial=70,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(1, ARMS + 1):
            default = DEFAULTS[i - 1]
            self.fields[f"route_{i}"] = forms.ChoiceField(
                label=f"Protocol {i} route", choices=ROUTES, required=False,
                initial=default["route"],
            )  # fmt: skip
            self.fields[f"dose_{i}"] = forms.DecimalField(
                label=f"Protocol {i} dose", min_value=Decimal("0.01"), required=False,
                initial=default["dose"],
            )  # fmt: skip
            self.fields[f"unit_{i}"] = forms.ChoiceField(
                label=f"Protocol {i} unit", choices=UNITS, initial=default["unit"], required=False
            )
            self.fields[f"infusion_min_{i}"] = forms.DecimalField(
                label=f"Protocol {i} IV minutes", min_value=0, required=False,
                initial=default.get("infusion_min"),
            )  # fmt: skip

    def arms(self) -> list[tuple[int, Protocol]]:
        """The filled-in protocols, numbered; call after ``is_valid()``."""
        out = []
        for i in range(1, ARMS + 1):
            route, dose = self.cleaned_data.get(f"route_{i}"), self.cleaned_data.get(f"dose_{i}")
            if not route or dose is None:
                continue
            unit, minutes = (
                self.cleaned_data[f"unit_{i}"],
                self.cleaned_data.get(f"infusion_min_{i}"),
            )
            regimen = pk.Regimen(
                route,
                dose_mg=float(dose) if unit == "mg" else None,
                dose_mg_per_kg=float(dose) if unit == "mg/kg" else None,
                infusion_min=float(minutes) if route == "iv" and minutes is not None else None,
            )
            over = f" over {minutes:g} min" if route == "iv" and minutes else ""
            out.append((i, Protocol(f"{route} {dose:g} {unit}{over}", route, regimen)))
        return out
