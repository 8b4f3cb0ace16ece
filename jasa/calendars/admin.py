from django.contrib import admin

from jasa.calendars.models import CalendarConnection


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(admin.ModelAdmin):
    """Status only: credentials stay encrypted and out of the admin."""

    list_display = ("name", "kind", "membership", "workspace", "last_synced_at", "last_error")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "membership__user__email")
    exclude = ("credentials_encrypted",)
    readonly_fields = ("last_synced_at", "last_attempt_at", "last_error", "etag", "last_modified")
