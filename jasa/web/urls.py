from django.urls import path

from jasa.web import team_views, views, workspace_views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard_index, name="dashboard_index"),
    path("dashboard/new/", workspace_views.workspace_new, name="workspace_new"),
    path("dashboard/<slug:ws>/", views.dashboard, name="dashboard"),
    path("dashboard/<slug:ws>/settings/", workspace_views.workspace_settings, name="settings"),
    path("dashboard/<slug:ws>/settings/api-keys/", workspace_views.apikey_create, name="apikey_create"),
    path("dashboard/<slug:ws>/settings/api-keys/<uuid:key_id>/revoke/", workspace_views.apikey_revoke,
         name="apikey_revoke"),
    path("dashboard/<slug:ws>/audit/", workspace_views.audit_log, name="audit"),
    path("dashboard/<slug:ws>/team/", team_views.team, name="team"),
    path("dashboard/<slug:ws>/team/invite/", team_views.team_invite, name="team_invite"),
    path("dashboard/<slug:ws>/team/invitations/<uuid:invitation_id>/cancel/", team_views.invitation_cancel,
         name="invitation_cancel"),
    path("dashboard/<slug:ws>/team/<uuid:membership_id>/role/", team_views.member_role, name="member_role"),
    path("dashboard/<slug:ws>/team/<uuid:membership_id>/deactivate/", team_views.member_deactivate,
         name="member_deactivate"),
    path("dashboard/<slug:ws>/team/<uuid:membership_id>/profile/", team_views.member_profile,
         name="member_profile"),
    path("dashboard/<slug:ws>/profile/", team_views.my_profile, name="my_profile"),
    path("invite/<str:token>/", team_views.invitation_accept, name="invitation_accept"),
    path("portal/", views.portal, name="portal"),
    path("<slug:ws>/", views.workspace_public, name="workspace_public"),
]
