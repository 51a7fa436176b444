from django.urls import path

from ketacare.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("keepalive/", views.keepalive, name="keepalive"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views.revoke_token, name="revoke_token"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:user_id>/active/", views.set_active, name="set_active"),
]
