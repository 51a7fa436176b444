"""Controlled: the pages. The stock (containers and their balances, what needs doing), a
container's ledger and its actions (waste, blind count, disposal, overfill, correction), the
registry (registration, products), receipts, inventories, the discrepancy log and its clocks,
and the dispensing record as a page, CSV and PDF, with a Form 41 record per destruction.
Parse, authorise, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ketacare.accounts.access import StaffRequest, requires
from ketacare.accounts.actor import Actor
from ketacare.accounts.roles import Perm
from ketacare.clinical import controlled as rules
from ketacare.controlled import forms as f
from ketacare.controlled import report, selectors
from ketacare.controlled.models import (
    Container,
    Discrepancy,
    InventoryKind,
    LedgerEntry,
    Product,
    Registration,
)
from ketacare.controlled.services import counts, handling, reads, stock
from ketacare.lib.forms import form_error_lines, show_errors
from ketacare.lib.pdf import render_pdf


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def index(request: StaffRequest) -> HttpResponse:
    rows = selectors.stock()
    reads.view_stock(Actor.from_request(request), rows)
    context = {
        "registrations": Registration.objects.all(),
        "rows": rows,
        "warnings": selectors.warnings(timezone.localdate()),
        "report_form": f.ReportForm(),
    }
    return render(request, "controlled/index.html", context)


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def container(request: StaffRequest, container_id: int) -> HttpResponse:
    found = get_object_or_404(
        Container.objects.select_related("product", "registration"), pk=container_id
    )
    reads.view_ledger(Actor.from_request(request), found)
    context = {
        "container": found,
        "lines": selectors.ledger(found),
        "left": selectors.amount(selectors.balance(found), found),
        "flags": selectors.flags(found, timezone.localdate()),
        "forms": {
            "waste": f.WasteForm(request=request, prefix="waste"),
            "count": f.CountForm(prefix="count"),
            "dispose": f.DisposeForm(request=request, prefix="dispose"),
            "overfill": f.OverfillForm(request=request, prefix="overfill"),
            "correct": f.ReasonForm(prefix="correct"),
        },
    }
    return render(request, "controlled/container.html", context)


Action = Callable[[Actor, dict[str, Any]], object]


def _act(
    request: StaffRequest, form: forms.BaseForm, action: Action, done: str, back: str
) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, form_error_lines(form))
        return redirect(back)
    try:
        action(Actor.from_request(request), form.cleaned_data)
    except ValidationError as exc:
        show_errors(request, exc)
    else:
        messages.success(request, done)
    return redirect(back)


def _ledger(container_id: int) -> str:
    return reverse("controlled:container", args=[container_id])


@requires(Perm.CONTROLLED_HANDLE)
@require_POST
def waste(request: StaffRequest, container_id: int) -> HttpResponse:
    found = get_object_or_404(Container, pk=container_id)
    form = f.WasteForm(request.POST, request=request, prefix="waste")
    return _act(
        request,
        form,
        lambda a, d: handling.waste(a, found, d["quantity"], d["witness"], d["reason"]),
        "Waste recorded.",
        _ledger(container_id),
    )


@requires(Perm.CONTROLLED_HANDLE)
@require_POST
def count(request: StaffRequest, container_id: int) -> HttpResponse:
    found = get_object_or_404(Container, pk=container_id)

    def run(a: Actor, d: dict[str, Any]) -> object:
        _, discrepancy = counts.count(a, found, d["measured"])
        if discrepancy is not None:
            messages.warning(request, "The count differs from the ledger: a discrepancy is open.")
        return discrepancy

    return _act(
        request,
        f.CountForm(request.POST, prefix="count"),
        run,
        "Count recorded.",
        _ledger(container_id),
    )


@requires(Perm.CONTROLLED_MANAGE)
@require_POST
def dispose(request: StaffRequest, container_id: int) -> HttpResponse:
    found = get_object_or_404(Container, pk=container_id)

    def run(a: Actor, d: dict[str, Any]) -> object:
        disposal = handling.Disposal(
            quantity=d["quantity"],
            on_site=d["on_site"],
            method=d["method"],
            location=d["location"],
            witness=d["witness"],
            second_witness=d["second_witness"],
            reason=d["reason"],
        )
        return handling.dispose(a, found, disposal)

    form = f.DisposeForm(request.POST, request=request, prefix="dispose")
    return _act(request, form, run, "Disposal recorded.", _ledger(container_id))


@requires(Perm.CONTROLLED_MANAGE)
@require_POST
def overfill(request: StaffRequest, container_id: int) -> HttpResponse:
    found = get_object_or_404(Container, pk=container_id)
    form = f.OverfillForm(request.POST, request=request, prefix="overfill")
    return _act(
        request,
        form,
        lambda a, d: handling.adjust_overfill(a, found, d["quantity"], d["witness"], d["reason"]),
        "Overfill adjustment recorded.",
        _ledger(container_id),
    )


@requires(Perm.CONTROLLED_MANAGE)
@require_POST
def correct(request: StaffRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(LedgerEntry, pk=entry_id)
    return _act(
        request,
        f.ReasonForm(request.POST, prefix="correct"),
        lambda a, d: handling.correct(a, entry, d["reason"]),
        "Correction recorded beside the entry.",
        _ledger(entry.container_id),
    )


# The registry, receipts and inventories -------------------------------------------------


@requires(Perm.CONTROLLED_MANAGE)
@require_http_methods(["GET", "POST"])
def setup(request: StaffRequest) -> HttpResponse:
    reg_form = f.RegistrationForm(request.POST if "dea_number" in request.POST else None)
    product_form = f.ProductForm(request.POST if "ndc" in request.POST else None)
    bound = reg_form if reg_form.is_bound else product_form if product_form.is_bound else None
    if bound is not None and bound.is_valid():
        service = stock.register if bound is reg_form else stock.add_product
        try:
            service(Actor.from_request(request), bound.cleaned_data)
        except ValidationError as exc:
            show_errors(request, exc, bound)
        else:
            messages.success(request, "Saved.")
            return redirect("controlled:setup")
    context = {
        "reg_form": reg_form,
        "product_form": product_form,
        "registrations": Registration.objects.all(),
        "products": Product.objects.all(),
        "rules": rules.rules(),
    }
    return render(request, "controlled/setup.html", context)


@requires(Perm.CONTROLLED_MANAGE)
@require_http_methods(["GET", "POST"])
def receive(request: StaffRequest) -> HttpResponse:
    form = f.ReceiptForm(request.POST or None)
    reg = Registration.objects.first()
    if request.method == "POST" and form.is_valid() and reg is not None:
        d = form.cleaned_data
        bottles = form.bottles()
        receipt = stock.Receipt(
            product=d["product"],
            containers=len(bottles),
            bottle_numbers=bottles,
            lot=d["lot"],
            expires_on=d["expires_on"],
            supplier_name=d["supplier_name"],
            supplier_address=d["supplier_address"],
            supplier_dea=d["supplier_dea"].strip().upper(),
            invoice_number=d["invoice_number"],
            received_at=d["received_at"],
        )
        try:
            made = stock.receive(Actor.from_request(request), reg, receipt)
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, f"{len(made)} container(s) received.")
            return redirect("controlled:index")
    if reg is None:
        messages.error(request, "Record the clinic's DEA registration first.")
    return render(request, "controlled/receive.html", {"form": form, "registration": reg})


@requires(Perm.CONTROLLED_MANAGE)
@require_http_methods(["GET", "POST"])
def inventory(request: StaffRequest) -> HttpResponse:
    reg = Registration.objects.first()
    containers = [row.container for row in selectors.stock(reg)] if reg else []
    form = f.InventoryForm(request.POST or None, containers=containers)
    if request.method == "POST" and form.is_valid() and reg is not None:
        d = form.cleaned_data
        lines = [
            stock.Measured(c, d[f"measured_{c.pk}"], d[f"estimated_{c.pk}"]) for c in containers
        ]
        try:
            stock.take_inventory(
                Actor.from_request(request),
                reg,
                InventoryKind(d["kind"]),
                d["taken_at"],
                d["business_point"],
                lines,
            )
        except ValidationError as exc:
            show_errors(request, exc, form)
        else:
            messages.success(request, "Inventory signed.")
            return redirect("controlled:inventory")
    inventories = reg.inventories.select_related("signed_by") if reg else []
    context = {"form": form, "registration": reg, "inventories": inventories}
    return render(request, "controlled/inventory.html", context)


# Discrepancies ------------------------------------------------------------------------------


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def discrepancies(request: StaffRequest) -> HttpResponse:
    context = {
        "rows": selectors.discrepancies(),
        "theft_form": f.TheftForm(initial={"discovered_on": timezone.localdate()}),
        "clock_form": f.ClockForm(initial={"on": timezone.localdate()}),
        "resolve_form": f.ResolveForm(),
    }
    return render(request, "controlled/discrepancies.html", context)


def _log() -> str:
    return reverse("controlled:discrepancies")


@requires(Perm.CONTROLLED_MANAGE)
@require_POST
def theft(request: StaffRequest, discrepancy_id: int) -> HttpResponse:
    found = get_object_or_404(Discrepancy, pk=discrepancy_id)
    return _act(
        request,
        f.TheftForm(request.POST),
        lambda a, d: counts.mark_theft_or_loss(a, found, d["discovered_on"]),
        "Marked as theft or significant loss: the notice and Form 106 clocks are running.",
        _log(),
    )


@requires(Perm.CONTROLLED_MANAGE)
@require_POST
def clock(request: StaffRequest, discrepancy_id: int) -> HttpResponse:
    found = get_object_or_404(Discrepancy, pk=discrepancy_id)
    return _act(
        request,
        f.ClockForm(request.POST),
        lambda a, d: counts.record_clock(a, found, d["which"], d["on"]),
        "Recorded.",
        _log(),
    )


@requires(Perm.CONTROLLED_MANAGE)
@require_POST
def resolve(request: StaffRequest, discrepancy_id: int) -> HttpResponse:
    found = get_object_or_404(Discrepancy, pk=discrepancy_id)
    return _act(
        request,
        f.ResolveForm(request.POST),
        lambda a, d: counts.resolve(a, found, d["resolution"], d["post_loss"]),
        "Discrepancy resolved.",
        _log(),
    )


# The dispensing record ------------------------------------------------------------------------


def _record(request: StaffRequest) -> tuple[f.ReportForm, selectors.Record | None]:
    form = f.ReportForm(request.GET or None)
    if not form.is_bound or not form.is_valid():
        return form, None
    d = form.cleaned_data
    return form, selectors.dispensing_record(d["registration"], d["start"], d["end"])


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def record(request: StaffRequest) -> HttpResponse:
    form, found = _record(request)
    if found is not None:
        reads.view_record(Actor.from_request(request), found)
    context = {"form": form, "record": found, "query": request.GET.urlencode()}
    return render(request, "controlled/record.html", context)


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def record_csv(request: StaffRequest) -> HttpResponse:
    form, found = _record(request)
    if found is None:
        messages.error(request, form_error_lines(form) or "Choose a registration and dates.")
        return redirect("controlled:record")
    reads.export_record(Actor.from_request(request), found, "csv")
    response = HttpResponse(report.as_csv(found), content_type="text/csv")
    name = f"dispensing-record-{found.start}-{found.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def record_pdf(request: StaffRequest) -> HttpResponse:
    form, found = _record(request)
    if found is None:
        messages.error(request, form_error_lines(form) or "Choose a registration and dates.")
        return redirect("controlled:record")
    reads.export_record(Actor.from_request(request), found, "pdf")
    html = render_to_string(
        "controlled/record_pdf.html", {"record": found, "rows": report.rows(found)}
    )
    return _pdf(request, html, f"dispensing-record-{found.start}-{found.end}.pdf")


def _pdf(request: StaffRequest, html: str, name: str) -> HttpResponse:
    response = HttpResponse(
        render_pdf(html, request.build_absolute_uri("/")), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@requires(Perm.CONTROLLED_REPORT)
@require_GET
def form_41(request: StaffRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(LedgerEntry, pk=entry_id)
    try:
        found = selectors.form_41(entry)
    except LedgerEntry.DoesNotExist:
        messages.error(request, "Only a destruction on site has a DEA Form 41 record.")
        return redirect(_ledger(entry.container_id))
    reads.view_form_41(Actor.from_request(request), found)
    html = render_to_string("controlled/form41_pdf.html", {"entry": found})
    return _pdf(request, html, f"form-41-entry-{found.pk}.pdf")
