"""The accounts pages: login and its second step, one's security page and tokens, the staff list."""

from django.urls import path

from ketacare.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("second-factor/", views.second_factor, name="second_factor"),
    path("second-factor/enrol/", views.enrol, name="enrol"),
    path("second-factor/later/", views.skip_enrolment, name="skip_enrolment"),
    path("keepalive/", views.keepalive, name="keepalive"),
    path("security/", views.security, name="security"),
    path("security/password/", views.password_change, name="password_change"),
    path("security/<str:kind>/<int:device_id>/remove/", views.remove_factor, name="remove_factor"),
    path("security/backup-codes/", views.regenerate_backup_codes, name="backup_codes"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/active/", views.set_active, name="set_active"),
    path(
        "staff/<int:user_id>/second-factor/",
        views.reset_second_factor,
        name="reset_second_factor",
    ),
]
