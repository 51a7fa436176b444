"""Controlled: the forms. Every witness re-enters their own password at that moment
(:mod:`ketacare.accounts.witness`); the services check the rest (never the performer, amounts
within the container, the order of inventories and receipts)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.http import HttpRequest
from django.utils import timezone

from ketacare.accounts.roles import Perm
from ketacare.accounts.witness import add_witness, check_witness
from ketacare.controlled.models import Product, Registration
from ketacare.lib.fields import DateInput

_WHEN = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
HANDLE = Perm.CONTROLLED_HANDLE


def _amount(label: str, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal("0.001"),
        max_digits=10,
        decimal_places=3,
        help_text=help_text,
    )


class _Witnessed(forms.Form):
    """A form with one witness (``witness``), or two (``second_witness`` too)."""

    witnesses: tuple[str, ...] = ("witness",)

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = {"witness": "Witness", "second_witness": "Second witness"}
        for name in self.witnesses:
            add_witness(
                self,
                request=request,
                perm=HANDLE,
                name=name,
                label=labels[name],
                reentry_label=f"{labels[name]}'s password",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in self.witnesses:
            check_witness(self, data, name=name, perm=HANDLE)
        return data


class RegistrationForm(forms.ModelForm[Registration]):
    class Meta:
        model = Registration
        fields = ["dea_number", "name", "address", "phone", "schedules", "expires_on"]
        widgets = {"expires_on": DateInput()}


class ProductForm(forms.ModelForm[Product]):
    class Meta:
        model = Product
        fields = [
            "name",
            "drug",
            "ndc",
            "form",
            "unit",
            "mg_per_unit",
            "units_per_container",
            "routes",
            "beyond_use_days",
        ]


class ReceiptForm(forms.Form):
    product = forms.ModelChoiceField(queryset=Product.objects.all())
    bottle_numbers = forms.CharField(
        max_length=300, help_text="One per container received, separated by commas"
    )
    lot = forms.CharField(max_length=40, label="Lot number")
    expires_on = forms.DateField(widget=DateInput(), label="Expiry date")
    supplier_name = forms.CharField(max_length=200)
    supplier_address = forms.CharField(max_length=300)
    supplier_dea = forms.CharField(max_length=9, label="Supplier DEA number")
    invoice_number = forms.CharField(max_length=60, label="Invoice or packing slip number")
    received_at = forms.DateTimeField(widget=_WHEN, label="Actually received at")

    def bottles(self) -> list[str]:
        text = self.cleaned_data["bottle_numbers"]
        return [b.strip() for b in text.split(",") if b.strip()]


class InventoryForm(forms.Form):
    kind = forms.ChoiceField(choices=[("initial", "initial"), ("biennial", "biennial")])
    taken_at = forms.DateTimeField(widget=_WHEN, label="Taken at")
    business_point = forms.ChoiceField(
        label="Opening or close of business",
        choices=[("opening", "opening of business"), ("close", "close of business")],
    )

    def __init__(self, *args: Any, containers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.containers = containers
        for c in containers:
            self.fields[f"measured_{c.pk}"] = forms.DecimalField(
                label=f"Bottle {c.bottle_number}: {c.product.name}, lot {c.lot} "
                f"({c.product.unit_label}, measured)",
                min_value=Decimal(0),
                max_digits=10,
                decimal_places=3,
            )
            self.fields[f"estimated_{c.pk}"] = forms.BooleanField(
                required=False, label=f"Bottle {c.bottle_number}: estimated (opened container)"
            )
        self.fields["taken_at"].initial = timezone.localtime().replace(second=0, microsecond=0)


class WasteForm(_Witnessed):
    quantity = _amount("Amount wasted (mL or devices)")
    reason = forms.CharField(max_length=300)


class CountForm(forms.Form):
    """A blind count: the counter enters what they measure, never shown the ledger's amount."""

    measured = forms.DecimalField(
        label="Measured amount (mL or devices)",
        min_value=Decimal(0),
        max_digits=10,
        decimal_places=3,
    )


class DisposeForm(_Witnessed):
    witnesses = ("witness", "second_witness")

    quantity = _amount("Amount disposed of (mL or devices)")
    on_site = forms.TypedChoiceField(
        label="Manner",
        choices=[
            ("1", "destroyed on site (DEA Form 41, two witnesses)"),
            ("0", "to a reverse distributor"),
        ],
        coerce=lambda v: v == "1",
    )
    method = forms.CharField(
        max_length=200, help_text="How it was made non-retrievable, or the reverse distributor"
    )
    location = forms.CharField(max_length=200, required=False)
    reason = forms.CharField(max_length=300, help_text="e.g. expired, past its beyond-use date")

    def __init__(self, *args: Any, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, request=request, **kwargs)
        self.fields["second_witness"].required = False
        self.fields["second_witness_password"].required = False
        self.fields["second_witness"].help_text = "Required for destruction on site"


class OverfillForm(_Witnessed):
    quantity = _amount("Overfill found (mL)", "What the emptied vial held beyond its label")
    reason = forms.CharField(max_length=300)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


class TheftForm(forms.Form):
    discovered_on = forms.DateField(widget=DateInput(), label="Discovered on")


class ClockForm(forms.Form):
    which = forms.ChoiceField(
        choices=[
            ("notice", "notice sent to the DEA Field Division"),
            ("form_106", "DEA Form 106 filed"),
        ],
        label="What was done",
    )
    on = forms.DateField(widget=DateInput(), label="On")


class ResolveForm(forms.Form):
    resolution = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    post_loss = forms.BooleanField(
        required=False, label="Take the missing amount off the container as a loss"
    )


class ReportForm(forms.Form):
    registration = forms.ModelChoiceField(queryset=Registration.objects.all())
    start = forms.DateField(widget=DateInput(), label="From")
    end = forms.DateField(widget=DateInput(), label="To")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["start"].initial = today - timedelta(days=30)
        self.fields["end"].initial = today
        first = Registration.objects.first()
        if first is not None:
            self.fields["registration"].initial = first.pk

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", "The end comes before the start.")
        return data
