"""Forms of the sender, template, compliance and blocked template pages (the services do the validating)."""

from django import forms

from campaigns.models import Sender, Service, Template, TemplateType


class SenderForm(forms.Form):
    name = forms.CharField(max_length=15, help_text="India: 6 letters (transactional/service) or 6 digits (MKT).")
    country_code = forms.CharField(max_length=2, initial="IN", label="Country", help_text="ISO code, e.g. IN, GB.")
    service = forms.ChoiceField(choices=Service.choices)
    entity_id = forms.CharField(
        max_length=30, required=False, label="DLT entity id (PE ID)", help_text="Required for India."
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["name"].disabled = True
            self.fields["name"].help_text = "A sender ID cannot be renamed: apply for a new one."


class TemplateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Say what the message is, e.g. “Order shipped”.")
    alias = forms.SlugField(max_length=100, required=False, help_text="Used by the API; the slug of the name if empty.")
    sender = forms.ModelChoiceField(queryset=Sender.objects.none(), to_field_name="uid", help_text="Approved senders.")
    template_type = forms.ChoiceField(choices=TemplateType.choices, label="Type", initial=TemplateType.PROMOTIONAL)
    is_english = forms.BooleanField(
        required=False, initial=True, label="English (GSM) template", help_text="Untick for regional-language text."
    )
    body = forms.CharField(
        strip=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
        help_text="Variables are written {{name}}: a letter, then letters, digits or _. Filters follow a |, e.g. "
        "{{name|default:'there'|capitalize}}, {{mobile|slice:-10}}, {{due|date_format:'d/m/Y'}}.",
    )
    consent_template = forms.ModelChoiceField(
        queryset=Template.objects.none(), to_field_name="uid", required=False, help_text="Required for SE."
    )
    dlt_template_id = forms.CharField(max_length=40, required=False, label="DLT template id")

    def __init__(self, *args, account, instance: Template | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        senders = Sender.objects.for_account(account).approved()
        if instance is not None and instance.sender_id:
            senders = Sender.objects.for_account(account).filter(pk=instance.sender_id) | senders
        self.fields["sender"].queryset = senders.order_by("name")
        consents = Template.objects.for_account(account).approved()
        if instance is not None:
            consents = consents.exclude(pk=instance.pk)
        self.fields["consent_template"].queryset = consents.order_by("name")

    @staticmethod
    def initial_for(template: Template) -> dict:
        return {
            "name": template.name,
            "alias": template.alias,
            "sender": template.sender.uid if template.sender else None,
            "template_type": template.template_type,
            "is_english": template.is_english,
            "body": template.body,
            "consent_template": template.consent_template.uid if template.consent_template else None,
            "dlt_template_id": template.dlt_template_id,
        }


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Required to reject; the author sees it."
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Give the reason for the rejection: the author sees it.")
        return data


class BlockedTemplateForm(forms.Form):
    template_id = forms.CharField(max_length=64, label="Template id", help_text="A DLT template id or a template's id.")


class UploadForm(forms.Form):
    file = forms.FileField(help_text="txt, csv, xls or xlsx.")
