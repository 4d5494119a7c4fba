from django.urls import path

from journey.views import checkout, insights, me, practice

urlpatterns = [
    path("practice/", practice.practice, name="practice"),
    path("practice/<int:pk>/step/<int:number>/", practice.practice_step, name="practice_step"),
    path("practice/<int:pk>/done/", practice.practice_done, name="practice_done"),
    path("calls/<int:call_id>/check-out/", checkout.checkout, name="checkout"),
    path("c/<slug:slug>/insights/", insights.community_insights, name="insights"),
    path("c/<slug:slug>/insights.csv", insights.community_insights_csv, name="insights_csv"),
    path("me/journey/", me.my_journey, name="my_journey"),
    path("me/journey/notes/<int:pk>/delete/", me.note_delete, name="journey_note_delete"),
    path("me/journey/practices/<int:pk>/delete/", me.practice_delete, name="journey_practice_delete"),
]
