from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class IcsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    url = forms.URLField(label=_("Feed address (ICS)"), max_length=1000, assume_scheme="https",
                         help_text=_("The secret iCal address your calendar app shows."))


class CalDavForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    url = forms.URLField(label=_("CalDAV server address"), max_length=1000, assume_scheme="https",
                         help_text=_("For iCloud: https://caldav.icloud.com/ with an app-specific password."))
    username = forms.CharField(label=_("User name"), max_length=200)
    password = forms.CharField(label=_("Password"), max_length=500, widget=forms.PasswordInput)


class ConnectionEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    selected_calendars = forms.MultipleChoiceField(
        label=_("Calendars to check for busy times"), widget=forms.CheckboxSelectMultiple, required=False
    )
    write_calendar = forms.ChoiceField(label=_("Write confirmed bookings to"), required=False)

    def __init__(self, *args, calendars: list[tuple[str, str]], writable: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["selected_calendars"].choices = calendars
        if writable:
            self.fields["write_calendar"].choices = [("", _("— do not write bookings —")), *calendars]
        else:
            del self.fields["write_calendar"]
