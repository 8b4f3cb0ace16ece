from django.contrib import admin

from jasa.notifications.models import NotificationTemplate, OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "workspace", "channel", "template", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "channel")
    search_fields = ("recipient", "template", "dedupe_key")
    readonly_fields = ("attachments",)


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ("workspace", "template", "language", "channel")
    list_filter = ("channel", "language")
