"""Forms of the opt-out pages. Validation of numbers and scopes happens in the services; see `apply_errors`."""

from django import forms
from django.core.exceptions import ValidationError

from contacts.keywords import clean_word_list
from contacts.models.unsubscribers import OptOutScope, UnsubscriberType
from contacts.services_unsubscribers import CLEAN_ALL_CONFIRMATION

VALUE_HELP = "Sender name, product code or tag name. Leave empty for “All messages”."


def apply_errors(form: forms.Form, exc: ValidationError, field_map: dict[str, str] | None = None) -> None:
    """Attach a service's ValidationError to the form's fields (unknown keys become form-wide errors)."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, messages in exc.message_dict.items():
        name = field_map.get(key, key)
        form.add_error(name if name in form.fields else None, messages)


class ScopeFields(forms.Form):
    type = forms.ChoiceField(choices=UnsubscriberType.choices, initial=UnsubscriberType.ALL)
    value = forms.CharField(required=False, max_length=100, help_text=VALUE_HELP)


class UnsubscriberAddForm(ScopeFields):
    receivers = forms.CharField(
        label="Numbers",
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "+91 98765 43210\n919876543211\n09876543212"}),
        help_text="One number, or a pasted list: one per line or separated by commas. "
        "Numbers without a country code use the account's default country.",
    )
    field_order = ["receivers", "type", "value"]


class UnsubscriberEditForm(ScopeFields):
    receiver = forms.CharField(max_length=40)
    field_order = ["receiver", "type", "value"]


class CleanAllForm(forms.Form):
    confirm = forms.CharField(
        label=f"Type {CLEAN_ALL_CONFIRMATION} to confirm",
        help_text="Every opt-out of this account will be deleted. Those numbers can be messaged again.",
    )


class UnsubscriberImportForm(ScopeFields):
    file = forms.FileField(help_text="txt, csv, xls or xlsx; up to 100 MB. Optional columns type, value.")
    field_order = ["file", "type", "value"]


class OptOutSettingsForm(forms.Form):
    stop_words = forms.CharField(help_text="Comma separated. Case and surrounding punctuation are ignored.")
    start_words = forms.CharField(required=False, help_text="Comma separated. Lifts opt-outs made by a stop word.")
    scope = forms.ChoiceField(choices=OptOutScope.choices, label="A stop word opts out of")
    send_confirmation = forms.BooleanField(required=False, label="Reply to a stop word with a confirmation")
    confirmation_text = forms.CharField(required=False, max_length=480, widget=forms.Textarea(attrs={"rows": 2}))
    reply_sender = forms.ChoiceField(
        required=False,
        label="Reply from",
        help_text="Approved sender ID of confirmation replies when the number written to is not one of ours.",
    )

    def __init__(self, *args, sender_names: list[str], current_reply_sender: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        names = list(sender_names)
        if current_reply_sender and current_reply_sender not in names:
            names.append(current_reply_sender)  # no longer approved: kept visible rather than silently dropped
        self.fields["reply_sender"].choices = [("", "None: reply only from the number written to")] + [
            (name, name if name in sender_names else f"{name} (not approved)") for name in names
        ]

    @staticmethod
    def initial_from(settings) -> dict:
        return {
            "stop_words": ", ".join(settings.stop_words),
            "start_words": ", ".join(settings.start_words),
            "scope": settings.scope,
            "send_confirmation": settings.send_confirmation,
            "confirmation_text": settings.confirmation_text,
            "reply_sender": settings.reply_sender,
        }

    def clean_stop_words(self) -> list[str]:
        return clean_word_list(self.cleaned_data["stop_words"].split(","))

    def clean_start_words(self) -> list[str]:
        return clean_word_list(self.cleaned_data["start_words"].split(","))
