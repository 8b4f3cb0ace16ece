"""Creating a workspace, its settings page, its API keys and its audit trail."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jasa.accounts import selectors, services
from jasa.accounts.forms import ApiKeyForm, WorkspaceCreateForm, WorkspaceSettingsForm
from jasa.core.errors import JasaError
from jasa.web.decorators import workspace_member
from jasa.web.utils import changed_data, form_error


@login_required
def workspace_new(request):
    form = WorkspaceCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ws = services.workspace_create(owner=request.user, languages=["id", "en"], **form.cleaned_data)
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Your business is ready. Add your details and invite your team."))
            return redirect("web:dashboard", ws=ws.slug)
    return render(request, "web/workspace_new.html", {"form": form})


def _settings_page(request, form=None, key_form=None, new_key=None, status=200):
    ws = request.workspace
    return render(request, "web/workspace_settings.html", {
        "form": form or WorkspaceSettingsForm(instance=ws, prefix="ws"),
        "key_form": key_form or ApiKeyForm(prefix="key"),
        "api_keys": selectors.api_keys(ws),
        "new_key": new_key,
        "bilingual": ("refund_policy_id", "refund_policy_en", "terms_id", "terms_en"),
    }, status=status)


@workspace_member("workspace.manage")
def workspace_settings(request):
    if request.method != "POST":
        return _settings_page(request)
    # The ModelForm validates on a copy so a refused change never touches request.workspace.
    instance = selectors.workspace_by_slug(request.workspace.slug)
    form = WorkspaceSettingsForm(request.POST, request.FILES, instance=instance, prefix="ws")
    if form.is_valid():
        try:
            services.workspace_update(workspace=request.workspace, **changed_data(form))
        except JasaError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("web:settings", ws=request.workspace.slug)
    return _settings_page(request, form=form, status=422)


@require_POST
@workspace_member("workspace.manage")
def apikey_create(request):
    form = ApiKeyForm(request.POST, prefix="key")
    if not form.is_valid():
        return _settings_page(request, key_form=form, status=422)
    try:
        _, raw = services.apikey_create(workspace=request.workspace, created_by=request.user, **form.cleaned_data)
    except JasaError as exc:
        form_error(form, exc)
        return _settings_page(request, key_form=form, status=422)
    # Rendered, not redirected: the plain key exists only in this response.
    response = _settings_page(request, new_key=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@workspace_member("workspace.manage")
def apikey_revoke(request, key_id):
    key = selectors.api_key_in(request.workspace, key_id)
    if key is None:
        raise Http404("No such key")
    services.apikey_revoke(key=key)
    messages.success(request, _("The key was revoked."))
    return redirect("web:settings", ws=request.workspace.slug)


@workspace_member("audit.view")
def audit_log(request):
    page = Paginator(selectors.audit_entries(request.workspace), 50).get_page(request.GET.get("page"))
    return render(request, "web/audit_log.html", {"page": page})
