from django.urls import path

from salesmonk.tenants import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("team/", views.team, name="team"),
    path("team/<uuid:membership_id>/", views.member_detail, name="member_detail"),
    path("workspace/switch/", views.switch_tenant, name="switch_tenant"),
]
