from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("theme/", views.set_theme, name="set_theme"),
    path("calendar-address/", views.calendar_address, name="calendar_address"),
]
