"""The upload form of the contacts import page."""

from django import forms

from contacts.models import Group, ImportMode

KEEP_CHOICES = [
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "E-mail"),
    ("gender", "Gender"),
    ("birth_date", "Birth date"),
    ("postal_code", "Postal code"),
    ("company", "Company"),
    ("attributes", "Attributes"),
]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="Spreadsheet or text file",
        help_text="Drop an .xlsx, .xls, .csv or .txt file here, or choose one. Every sheet of a workbook is read.",
        widget=forms.ClearableFileInput(attrs={"class": "drop-zone", "accept": ".xlsx,.xls,.csv,.txt"}),
    )
    mode = forms.ChoiceField(choices=ImportMode.choices, initial=ImportMode.UPSERT, label="Mode")
    keep_existing = forms.MultipleChoiceField(
        choices=KEEP_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Keep existing values of",
        help_text="When a contact exists, these fields are only filled if empty.",
    )
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, label="Add to group")
    tags = forms.CharField(required=False, label="Tags to apply", help_text="Comma-separated, e.g. march, vip.")

    def __init__(self, *args, account=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.for_account(account)

    def clean_tags(self) -> list[str]:
        tags = [tag.strip() for tag in self.cleaned_data["tags"].split(",") if tag.strip()]
        if any(len(tag) > 100 for tag in tags):
            raise forms.ValidationError("A tag is longer than 100 characters.")
        return tags
