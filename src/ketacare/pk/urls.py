from django.urls import path

from ketacare.pk import views

app_name = "pk"
urlpatterns = [
    path("compare/", views.compare, name="compare"),
]
