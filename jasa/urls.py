from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import JavaScriptCatalog

from jasa.api.main import api
from jasa.core.views import healthz

# The admin logs in through allauth (rate limits, MFA), not through its own form.
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/v1/", api.urls),
    path("", include("jasa.payments.urls")),
    path("", include("jasa.sandbox.urls")),
    path("", include("jasa.bookings.urls")),
    path("", include("jasa.calendars.urls")),
    path("", include("jasa.catalog.urls")),
    path("", include("jasa.notifications.urls")),
    # the shell last: it owns "/<workspace-slug>/"
    path("", include("jasa.web.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
