"""FilterSets of webhooks, deliveries and subscriptions, shared by the pages and the API (`filter[x]`)."""

import django_filters

from portal.models import Subscription, Webhook, WebhookDelivery


class WebhookFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")
    status = django_filters.ChoiceFilter(choices=Webhook.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Webhook.Kind.choices)

    class Meta:
        model = Webhook
        fields = ["name", "status", "kind"]


class DeliveryFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=WebhookDelivery.State.choices)
    event = django_filters.CharFilter(field_name="event_name")
    event_id = django_filters.UUIDFilter(field_name="event_uid")
    webhook = django_filters.UUIDFilter(field_name="webhook__uid")

    class Meta:
        model = WebhookDelivery
        fields = ["state", "event", "event_id", "webhook"]


class SubscriptionFilterSet(django_filters.FilterSet):
    event = django_filters.CharFilter()
    identity = django_filters.CharFilter()
    webhook = django_filters.UUIDFilter(field_name="webhook__uid")

    class Meta:
        model = Subscription
        fields = ["event", "identity", "webhook"]
