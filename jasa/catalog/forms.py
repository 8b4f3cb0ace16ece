"""The staff's offer editor."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from jasa.accounts.models import Membership
from jasa.catalog.models import ConsultationOffer
from jasa.catalog.services import OFFER_FIELDS

EDITABLE = [f for f in OFFER_FIELDS if f not in ("currency", "questions", "reminder_offsets_minutes",
                                                   "reminder_channels")]


class OfferForm(forms.ModelForm):
    staff = forms.ModelMultipleChoiceField(label=_("Staff who give it"), queryset=Membership.objects.none(),
                                           widget=forms.CheckboxSelectMultiple, required=False)
    reminder_hours = forms.CharField(label=_("Reminders (hours before, comma separated)"), required=False,
                                     initial="24, 1")
    questions_text = forms.CharField(
        label=_("Questions asked at booking"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: the question in Bahasa Indonesia | in English. End a line with * to make "
                    "it required."),
    )
    reminder_email = forms.BooleanField(label=_("Remind by email"), required=False, initial=True)
    reminder_whatsapp = forms.BooleanField(label=_("Remind by WhatsApp"), required=False, initial=True)

    class Meta:
        model = ConsultationOffer
        fields = EDITABLE

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = Membership.objects.filter(workspace=workspace, is_active=True).select_related(
            "user")
        self.fields["staff"].label_from_instance = lambda m: m.user.name or m.user.email
        self.fields["slug"].required = False
        if self.instance.pk:
            self.fields["staff"].initial = list(self.instance.staff.values_list("pk", flat=True))
            self.fields["reminder_hours"].initial = ", ".join(
                str(m // 60) if m % 60 == 0 else f"{m / 60:g}" for m in self.instance.reminders)
            self.fields["questions_text"].initial = "\n".join(
                " | ".join(p for p in (q.get("label_id", ""), q.get("label_en", "")) if p) + ("*" if q.get("required") else "")
                for q in self.instance.questions or []
            )
            channels = self.instance.reminder_channels or ["email", "whatsapp"]
            self.fields["reminder_email"].initial = "email" in channels
            self.fields["reminder_whatsapp"].initial = "whatsapp" in channels

    def clean_reminder_hours(self) -> list[int]:
        raw = self.cleaned_data.get("reminder_hours") or ""
        out = []
        for part in raw.replace(";", ",").split(","):
            part = part.strip()
            if not part:
                continue
            try:
                minutes = round(float(part) * 60)
            except ValueError:
                raise forms.ValidationError(_("Use numbers of hours, e.g. 24, 1."))
            if minutes <= 0 or minutes > 60 * 24 * 14:
                raise forms.ValidationError(_("Each reminder must be between 1 minute and 14 days before."))
            out.append(minutes)
        return sorted(set(out), reverse=True)

    def clean_questions_text(self) -> list[dict]:
        """'Apa yang ingin dibahas? | What would you like to discuss? *' -> a question with a stable key."""
        from django.utils.text import slugify

        out, keys = [], set()
        for line in (self.cleaned_data.get("questions_text") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            required = line.endswith("*")
            label_id, _sep, label_en = line.rstrip("*").partition("|")
            label_id, label_en = label_id.strip(), label_en.strip()
            key = slugify(label_en or label_id)[:40] or f"q{len(out) + 1}"
            while key in keys:
                key += "-2"
            keys.add(key)
            out.append({"key": key, "label_id": label_id, "label_en": label_en, "required": required})
        if len(out) > 10:
            raise forms.ValidationError(_("Ask at most 10 questions."))
        return out

    def service_fields(self) -> dict:
        data = {f: self.cleaned_data[f] for f in EDITABLE if f in self.cleaned_data}
        data["reminder_offsets_minutes"] = self.cleaned_data["reminder_hours"]
        data["questions"] = self.cleaned_data["questions_text"]
        data["reminder_channels"] = [c for c, on in (("email", self.cleaned_data["reminder_email"]),
                                                     ("whatsapp", self.cleaned_data["reminder_whatsapp"])) if on]
        return data
