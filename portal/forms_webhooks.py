"""Forms of the webhook pages; validation is `portal.webhooks.validation`, shared with the API."""

from django import forms
from django.core.exceptions import ValidationError

from portal.models import Subscription, Webhook
from portal.webhooks import registry, validation


def parse_pairs(text: str, separator: str) -> dict[str, str]:
    """`name<separator>value` per line into a dict; a line without the separator is an error."""
    pairs = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, found, value = line.partition(separator)
        if not found or not name.strip():
            raise ValidationError(f"Line {number}: write name{separator}value.")
        pairs[name.strip()] = value.strip()
    return pairs


def format_pairs(pairs: dict, separator: str) -> str:
    joiner = f"{separator} " if separator == ":" else separator
    return "\n".join(f"{name}{joiner}{value}" for name, value in (pairs or {}).items())


PAIR_FIELDS = {"custom_headers": ":", "custom_params": "=", "custom_form": "="}


class WebhookForm(forms.Form):
    name = forms.CharField(max_length=120)
    uri = forms.CharField(
        label="URL",
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/webhooks/cpaas"}),
        help_text="Public http(s) address. A customized webhook may use {{id}}, {{mobile}}, {{status}}… in it.",
    )
    kind = forms.ChoiceField(choices=Webhook.Kind.choices, initial=Webhook.Kind.STANDARD, widget=forms.RadioSelect)
    secret = forms.CharField(
        required=False,
        max_length=200,
        help_text="Leave empty to generate one. Shown once after saving; giving a new one rotates it.",
    )
    active = forms.BooleanField(required=False, initial=True, help_text="Inactive webhooks receive nothing.")
    timeout_seconds = forms.FloatField(
        required=False, min_value=0.1, max_value=30, help_text="Seconds to wait for a 2xx answer (default 3)."
    )
    token = forms.CharField(
        required=False,
        max_length=200,
        label="Validation key",
        help_text="Optional. When set, the URL gets a POST with ?token=<key> and {validation_key, challenge} and must "
        'answer 200 with {"challenge": …}; until it does, deliveries are held (kept, not sent).',
    )
    send_bearer = forms.BooleanField(
        required=False,
        label="Also send the secret as Authorization: Bearer <secret>",
        help_text="For receivers that check a token; the Standard Webhooks signature is sent all the same.",
    )
    custom_method = forms.ChoiceField(choices=Webhook.Method.choices, initial="GET", label="Method", required=False)
    custom_headers = forms.CharField(
        required=False, label="Headers", widget=forms.Textarea(attrs={"rows": 2}), help_text="One Name: value a line."
    )
    custom_params = forms.CharField(
        required=False, label="Params", widget=forms.Textarea(attrs={"rows": 2}), help_text="One name=value a line."
    )
    custom_body_type = forms.ChoiceField(choices=Webhook.BodyType.choices, initial="form", label="Body", required=False)
    custom_form = forms.CharField(
        required=False,
        label="Form fields",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One name=value a line.",
    )
    custom_body = forms.CharField(required=False, label="Raw body", widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, instance: Webhook | None = None, **kwargs):
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            initial = {field: getattr(instance, field) for field in validation.WEBHOOK_FIELDS}
            initial.update({field: format_pairs(initial[field], sep) for field, sep in PAIR_FIELDS.items()})
            initial["active"] = instance.is_active
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)

    @property
    def placeholder_names(self) -> list[str]:
        """The {{names}} a customized webhook may use: the fields of the sms:message:status payload."""
        return sorted(validation.placeholder_values())

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        values = dict(data, status=1 if data.get("active") else 0)
        for field, separator in PAIR_FIELDS.items():
            try:
                values[field] = parse_pairs(data.get(field, ""), separator)
            except ValidationError as exc:
                self.add_error(field, exc)
                return data
        current = None
        if self.instance is not None:
            current = {field: getattr(self.instance, field) for field in validation.WEBHOOK_FIELDS}
        try:
            self.cleaned_webhook = validation.clean_webhook(values, current)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, messages)
        try:
            self.cleaned_secret = validation.clean_secret(data["secret"]) if data.get("secret") else None
        except ValidationError as exc:
            self.add_error("secret", exc)
        return data


class SubscriptionForm(forms.Form):
    event = forms.ChoiceField()
    identity = forms.CharField(
        max_length=64, initial="all", help_text="all, or one sender ID or number the events are about."
    )

    def __init__(self, *args, webhook: Webhook, **kwargs):
        super().__init__(*args, **kwargs)
        self.webhook = webhook
        events = registry.subscribable_events()
        if webhook.is_custom:
            events = [event for event in events if event.customizable]
        self.fields["event"].choices = [(event.name, f"{event.name} — {event.description}") for event in events]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        data["identity"] = validation.clean_identity(data["identity"])
        if Subscription.objects.filter(webhook=self.webhook, event=data["event"], identity=data["identity"]).exists():
            raise ValidationError("This webhook already has that subscription.")
        return data
