"""Forms of the contact, tag, group and segment pages. Validation of phones and uniqueness is in contacts.services."""

import json

from django import forms
from django.core.exceptions import ValidationError

from contacts.models import AttributeOperator, Gender, Group, IdentifierType, Tag, TagOperator
from contacts.services import ContactConflict, clean_conditions

CONDITION_ROWS = 3


def apply_service_error(form: forms.Form, error: Exception) -> None:
    """Show a service's ValidationError / ContactConflict on the form's fields (or as a form error)."""
    if isinstance(error, ContactConflict):
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return
    form.add_error(None, error.messages if isinstance(error, ValidationError) else str(error))


def _names(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


class ContactForm(forms.Form):
    phone = forms.CharField(
        max_length=40, help_text="Any format; numbers without a country code use your default country."
    )
    identity = forms.CharField(max_length=100, required=False, help_text="Your own id; generated when empty.")
    first_name = forms.CharField(max_length=100, required=False)
    last_name = forms.CharField(max_length=100, required=False)
    email = forms.EmailField(required=False)
    gender = forms.ChoiceField(choices=Gender.choices, required=False)
    birth_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    postal_code = forms.CharField(max_length=20, required=False)
    company = forms.CharField(max_length=100, required=False)
    tags = forms.CharField(required=False, help_text="Comma separated; new tags are created.")
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple
    )
    attributes = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": '{"city": "Pune", "plan": "gold"}'}),
        help_text="A JSON object; the values can be used as template variables.",
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["groups"].queryset = Group.objects.filter(account=account)

    def clean_attributes(self) -> dict:
        text = (self.cleaned_data.get("attributes") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise ValidationError("Not valid JSON.") from None
        if not isinstance(value, dict):
            raise ValidationError('Must be a JSON object, e.g. {"city": "Pune"}.')
        return value

    def clean_tags(self) -> list[str]:
        return _names(self.cleaned_data.get("tags"))

    @classmethod
    def initial_for(cls, contact) -> dict:
        return {
            "phone": contact.phone,
            "identity": contact.identity,
            "first_name": contact.first_name,
            "last_name": contact.last_name,
            "email": contact.email,
            "gender": contact.gender,
            "birth_date": contact.birth_date,
            "postal_code": contact.postal_code,
            "company": contact.company,
            "tags": ", ".join(sorted(tag.name for tag in contact.tags.all())),
            "groups": list(contact.groups.all()),
            "attributes": json.dumps(contact.attributes, ensure_ascii=False) if contact.attributes else "",
        }


class IdentifierForm(forms.Form):
    type = forms.ChoiceField(choices=IdentifierType.choices)
    value = forms.CharField(max_length=255)


class TagForm(forms.Form):
    name = forms.CharField(max_length=100)


class GroupForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=255, required=False)


class SegmentForm(forms.Form):
    """The segment builder: tag rules, groups and up to three attribute conditions."""

    name = forms.CharField(max_length=100)
    description = forms.CharField(max_length=255, required=False)
    positive_tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="With tags"
    )
    positive_tags_operator = forms.ChoiceField(
        choices=TagOperator.choices, initial=TagOperator.ANY, required=False, widget=forms.RadioSelect, label="Match"
    )
    negative_tags = forms.ModelMultipleChoiceField(
        queryset=Tag.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Without tags"
    )
    negative_tags_operator = forms.ChoiceField(
        choices=TagOperator.choices,
        initial=TagOperator.ANY,
        required=False,
        widget=forms.RadioSelect,
        label="Exclude when having",
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(), required=False, widget=forms.CheckboxSelectMultiple, label="Only in groups"
    )

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        tags = Tag.objects.filter(account=account)
        self.fields["positive_tags"].queryset = tags
        self.fields["negative_tags"].queryset = tags
        self.fields["groups"].queryset = Group.objects.filter(account=account)
        operators = [("", "—"), *AttributeOperator.choices]
        for row in range(CONDITION_ROWS):
            self.fields[f"condition_{row}_key"] = forms.CharField(max_length=100, required=False, label="Attribute")
            self.fields[f"condition_{row}_operator"] = forms.ChoiceField(
                choices=operators, required=False, label="Operator"
            )
            self.fields[f"condition_{row}_value"] = forms.CharField(max_length=255, required=False, label="Value")

    def condition_rows(self) -> list[tuple]:
        """(key, operator, value) bound fields per condition row, for the template."""
        return [
            (self[f"condition_{row}_key"], self[f"condition_{row}_operator"], self[f"condition_{row}_value"])
            for row in range(CONDITION_ROWS)
        ]

    def clean(self):
        data = super().clean()
        rows = []
        for row in range(CONDITION_ROWS):
            key = (data.get(f"condition_{row}_key") or "").strip()
            if key:
                operator = data.get(f"condition_{row}_operator") or AttributeOperator.EQUALS
                rows.append({"key": key, "operator": operator, "value": data.get(f"condition_{row}_value") or ""})
        try:
            data["conditions"] = clean_conditions(rows)
        except ValidationError as exc:
            self.add_error(None, exc.message_dict.get("conditions", exc.messages))
        return data

    def rules(self) -> dict:
        """Keyword arguments for contacts.services.save_segment."""
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data.get("description", ""),
            "positive_tags": list(data.get("positive_tags") or []),
            "positive_tags_operator": data.get("positive_tags_operator") or TagOperator.ANY,
            "negative_tags": list(data.get("negative_tags") or []),
            "negative_tags_operator": data.get("negative_tags_operator") or TagOperator.ANY,
            "groups": list(data.get("groups") or []),
            "conditions": data.get("conditions", []),
        }

    @classmethod
    def initial_for(cls, segment) -> dict:
        initial = {
            "name": segment.name,
            "description": segment.description,
            "positive_tags": list(segment.positive_tags.all()),
            "positive_tags_operator": segment.positive_tags_operator,
            "negative_tags": list(segment.negative_tags.all()),
            "negative_tags_operator": segment.negative_tags_operator,
            "groups": list(segment.groups.all()),
        }
        for row, condition in enumerate((segment.conditions or [])[:CONDITION_ROWS]):
            initial[f"condition_{row}_key"] = condition.get("key", "")
            initial[f"condition_{row}_operator"] = condition.get("operator", "")
            initial[f"condition_{row}_value"] = condition.get("value", "")
        return initial


class BulkActionForm(forms.Form):
    """A bulk action on the selected contacts (`ids`) or on every contact matching the list's filters."""

    ACTIONS = [
        ("tag", "Add tag"),
        ("untag", "Remove tag"),
        ("group_add", "Add to group"),
        ("group_remove", "Remove from group"),
        ("delete", "Delete"),
    ]

    action = forms.ChoiceField(choices=ACTIONS)
    tag = forms.CharField(max_length=100, required=False)
    group = forms.ModelChoiceField(queryset=Group.objects.none(), required=False, to_field_name="uid")
    ids = forms.CharField(required=False, widget=forms.MultipleHiddenInput)
    scope = forms.ChoiceField(choices=[("selected", "Selected"), ("all", "All matching")], initial="selected")
    query = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = Group.objects.filter(account=account)

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action in ("tag", "untag") and not (data.get("tag") or "").strip():
            self.add_error("tag", "Choose a tag.")
        if action in ("group_add", "group_remove") and not data.get("group"):
            self.add_error("group", "Choose a group.")
        data["ids"] = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        if data.get("scope") != "all" and not data["ids"]:
            raise ValidationError("Select at least one contact, or choose all contacts matching the filters.")
        return data
