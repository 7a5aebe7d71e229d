"""The keyword route form of the Numbers page: the same checks as the API (`contacts.services_numbers`)."""

from django import forms

from contacts.models import InboundNumber, KeywordRoute
from contacts.services_numbers import check_keyword, check_route_target
from portal.models import Webhook
from portal.service_errors import ServiceError


class KeywordRouteForm(forms.ModelForm):
    class Meta:
        model = KeywordRoute
        fields = ["keyword", "number", "webhook", "reply_text"]
        widgets = {"reply_text": forms.Textarea(attrs={"rows": 2})}
        help_texts = {"number": "Empty: any of the account's numbers.", "webhook": "Forward the message here, or…"}

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["number"].queryset = InboundNumber.objects.for_account(account)
        self.fields["number"].empty_label = "Any number"
        self.fields["webhook"].queryset = Webhook.objects.for_account(account)
        self.fields["webhook"].empty_label = "No webhook: answer with the reply text"

    def clean_keyword(self):
        try:
            return check_keyword(self.account, self.cleaned_data.get("keyword", ""))
        except ServiceError as error:
            raise forms.ValidationError(str(error)) from None

    def clean(self):
        cleaned = super().clean()
        try:
            check_route_target(cleaned.get("webhook"), cleaned.get("reply_text", ""))
        except ServiceError as error:
            raise forms.ValidationError(str(error)) from None
        return cleaned

    def save(self, commit=True):
        self.instance.account = self.account
        return super().save(commit=commit)
