"""Browser routes of Developers → SMPP (the gateway's credentials, sessions and refused binds)."""

from django.urls import path

from campaigns.views import smpp

urlpatterns = [
    path("smpp/", smpp.SmppPageView.as_view(), name="smpp"),
    path("smpp/<uuid:uid>/edit/", smpp.SmppCredentialEditView.as_view(), name="smpp_edit"),
    path("smpp/<uuid:uid>/<slug:action>/", smpp.SmppCredentialActionView.as_view(), name="smpp_action"),
]
