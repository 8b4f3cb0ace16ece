from django.urls import path

from jasa.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard_index, name="dashboard_index"),
    path("dashboard/<slug:ws>/", views.dashboard, name="dashboard"),
    path("portal/", views.portal, name="portal"),
    path("<slug:ws>/", views.workspace_public, name="workspace_public"),
]
