from django.urls import path

from sharing import views

urlpatterns = [
    path("calls/<int:call_id>/room/", views.room, name="call_room"),
]
