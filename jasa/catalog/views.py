"""Staff pages of the catalog: the offers list and the offer editor."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from jasa.accounts.permissions import can
from jasa.catalog.forms import OfferForm
from jasa.catalog.models import ConsultationOffer
from jasa.catalog.services import offer_create, offer_update
from jasa.core.errors import JasaError
from jasa.web.decorators import workspace_member


@workspace_member("offers.view")
def offers_list(request):
    offers = ConsultationOffer.objects.filter(workspace=request.workspace).order_by("-is_active", "name_id")
    return render(request, "catalog/offers.html", {
        "offers": offers, "can_manage": can(request.membership, "offers.manage"),
    })


@workspace_member("offers.manage")
def offer_edit(request, offer_id=None):
    offer = None
    if offer_id is not None:
        offer = ConsultationOffer.objects.filter(workspace=request.workspace, pk=offer_id).first()
        if offer is None:
            raise Http404("No such offer")
    form = OfferForm(request.POST or None, instance=offer, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        staff = list(form.cleaned_data["staff"])
        try:
            if offer is None:
                offer = offer_create(workspace=request.workspace, staff=staff, **fields)
            else:
                offer = offer_update(offer=offer, staff=staff, **fields)
        except JasaError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            flash.success(request, _("The offer is saved."))
            return redirect("catalog:dashboard", ws=request.workspace.slug)
    return render(request, "catalog/offer_form.html", {"form": form, "offer": offer})
