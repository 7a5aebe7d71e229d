"""Pages of Developers → Webhooks (included in the `portal` namespace)."""

from django.urls import path

from portal import views_webhooks as views

urlpatterns = [
    path("developers/webhooks/", views.WebhookListView.as_view(), name="webhook_list"),
    path("developers/webhooks/new/", views.WebhookCreateView.as_view(), name="webhook_create"),
    path("developers/webhooks/<uuid:uid>/", views.WebhookDetailView.as_view(), name="webhook_detail"),
    path("developers/webhooks/<uuid:uid>/edit/", views.WebhookEditView.as_view(), name="webhook_edit"),
    path(
        "developers/webhooks/<uuid:uid>/subscriptions/",
        views.SubscriptionCreateView.as_view(),
        name="subscription_create",
    ),
    path("developers/webhooks/<uuid:uid>/<slug:action>/", views.WebhookActionView.as_view(), name="webhook_action"),
    path(
        "developers/webhooks/subscriptions/<uuid:uid>/delete/",
        views.SubscriptionDeleteView.as_view(),
        name="subscription_delete",
    ),
    path(
        "developers/webhooks/deliveries/<uuid:uid>/",
        views.DeliveryDetailView.as_view(),
        name="webhook_delivery_detail",
    ),
]
