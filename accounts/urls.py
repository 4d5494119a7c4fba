from django.urls import path

from accounts import views

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("theme/", views.set_theme, name="set_theme"),
    path("calendar-address/", views.calendar_address, name="calendar_address"),
    path("data/", views.my_data, name="my_data"),
    path("data/export.json", views.export_data, name="export_data"),
    path("data/delete/", views.delete_account, name="delete_account"),
]
