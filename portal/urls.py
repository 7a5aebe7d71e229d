from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from portal import csp, errors, views, views_auth
from portal.two_factor.views import TwoFactorView
from portal.urls_exports import urlpatterns as export_urlpatterns
from portal.urls_webhooks import urlpatterns as webhook_urlpatterns

app_patterns = (
    [
        path("", views.DashboardView.as_view(), name="dashboard"),
        path("switch-account/", views.SwitchAccountView.as_view(), name="switch_account"),
        path("developers/tokens/", views.TokenListView.as_view(), name="token_list"),
        path("developers/tokens/<uuid:uid>/revoke/", views.TokenRevokeView.as_view(), name="token_revoke"),
        path("settings/account/", views.AccountSettingsView.as_view(), name="account_settings"),
        path("settings/members/", views.MemberListView.as_view(), name="member_list"),
        path("settings/members/<int:pk>/", views.MemberUpdateView.as_view(), name="member_update"),
        path("settings/members/<int:pk>/unlock/", views_auth.MemberUnlockView.as_view(), name="member_unlock"),
        path("settings/audit/", views.AuditListView.as_view(), name="audit_list"),
        path("settings/two-factor/", TwoFactorView.as_view(), name="two_factor"),
        path("notifications/<int:pk>/read/", views.NotificationReadView.as_view(), name="notification_read"),
        *webhook_urlpatterns,
        *export_urlpatterns,
    ],
    "portal",
)

auth_patterns = [
    path("login/", views_auth.LoginView.as_view(), name="login"),
    path("login/code/", views_auth.LoginCodeView.as_view(), name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/", views_auth.PasswordResetConfirmView.as_view(), name="password_reset_confirm"
    ),
    path("password/reset/complete/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("", include("portal.urls_ops")),
    path("admin/", admin.site.urls),
    path("csp-report/", csp.report, name="csp_report"),
    path("accounts/", include(auth_patterns)),
    path("api/v2/", include(("portal.api.urls", "portal-api"))),
    path("api/v2/", include(("contacts.api.urls", "contacts-api"))),
    path("api/v2/", include(("campaigns.api.urls", "campaigns-api"))),
    path("contacts/", include("contacts.urls")),
    path("campaigns/", include("campaigns.urls")),
    re_path(r"^api/", errors.api_not_found),
    path("", include(app_patterns)),
    path("", include("campaigns.urls_links")),
]

handler404 = "portal.errors.not_found"
handler500 = "portal.errors.server_error"
handler403 = "portal.errors.forbidden"
handler400 = "portal.errors.bad_request"
