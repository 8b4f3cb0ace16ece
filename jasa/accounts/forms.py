"""Forms for workspace, team and profile pages. They only parse input; services decide."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from jasa.accounts.models import ApiKey, Role, StaffProfile, Workspace

MAX_IMAGE_BYTES = 2 * 1024 * 1024


class NoColonMixin:
    """Labels without Django's trailing colon: Pico puts labels above fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def _check_image_size(upload):
    if upload and getattr(upload, "size", 0) > MAX_IMAGE_BYTES:
        raise forms.ValidationError(_("The image is larger than 2 MB; upload a smaller one."))
    return upload


class WorkspaceCreateForm(NoColonMixin, forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name", "slug", "time_zone", "currency"]
        help_texts = {"slug": _("Your public page will be at /<address>/. Lowercase letters, digits, hyphens.")}


class WorkspaceSettingsForm(NoColonMixin, forms.ModelForm):
    languages = forms.MultipleChoiceField(
        label=capfirst(_("languages")), choices=settings.LANGUAGES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Workspace
        fields = [
            "name", "logo", "brand_colour", "time_zone", "currency", "languages", "legal_name", "address", "npwp",
            "email", "phone", "refund_transfer_days", "refund_policy_id", "refund_policy_en", "terms_id", "terms_en",
        ]
        widgets = {
            "brand_colour": forms.TextInput(attrs={"type": "color"}),
            "address": forms.Textarea(attrs={"rows": 2}),
            "refund_policy_id": forms.Textarea(attrs={"rows": 3}),
            "refund_policy_en": forms.Textarea(attrs={"rows": 3}),
            "terms_id": forms.Textarea(attrs={"rows": 3}),
            "terms_en": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        days = self.fields["refund_transfer_days"]
        # the model's validators (and a database constraint) allow 1–60 working days; the browser says so too
        days.min_value, days.max_value = 1, 60
        days.widget.attrs.update(min=1, max=60)

    def clean_logo(self):
        return _check_image_size(self.cleaned_data.get("logo"))


class InvitationForm(NoColonMixin, forms.Form):
    email = forms.EmailField(label=capfirst(_("email")))
    role = forms.ChoiceField(label=capfirst(_("role")), choices=Role.choices, initial=Role.STAFF)


class RoleForm(NoColonMixin, forms.Form):
    role = forms.ChoiceField(label=capfirst(_("role")), choices=Role.choices)


class ListField(forms.CharField):
    """A list typed one item per line (or separated by commas)."""

    def __init__(self, *args, separator: str = "\n", **kwargs):
        self.separator = separator
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return self.separator.join(value) if self.separator == "\n" else ", ".join(value)
        return value

    def to_python(self, value):
        text = super().to_python(value) or ""
        parts = text.replace(",", "\n").splitlines() if self.separator == "," else text.splitlines()
        return [p.strip() for p in parts if p.strip()]


class StaffProfileForm(NoColonMixin, forms.ModelForm):
    certifications = ListField(label=capfirst(_("certifications")), widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("One per line."))
    languages = ListField(label=capfirst(_("languages")), separator=",", help_text=_("Comma separated, e.g. id, en."))

    class Meta:
        model = StaffProfile
        fields = ["display_name", "photo", "headline", "bio_id", "bio_en", "years_experience", "certifications",
                  "languages", "time_zone", "is_public"]
        widgets = {"bio_id": forms.Textarea(attrs={"rows": 4}), "bio_en": forms.Textarea(attrs={"rows": 4})}

    def clean_photo(self):
        return _check_image_size(self.cleaned_data.get("photo"))


class ApiKeyForm(NoColonMixin, forms.Form):
    name = forms.CharField(label=capfirst(_("name")), max_length=100)
    role = forms.ChoiceField(label=capfirst(_("access")), choices=ApiKey.KEY_ROLES, initial=Role.ADMIN)
