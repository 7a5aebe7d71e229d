"""The campaign wizard's form: audience, sender and content, variable mapping, schedule, batches and throttle,
Smart Delivery.

When it sends is an explicit choice: "Send now", or "Schedule" with a start time that `lifecycle.check_start_time`
accepts (in the future, within the maximum ahead). A draft needs no choice, but a start time it keeps is checked too.
"""

import re
import zoneinfo

from django import forms
from django.utils import timezone

from campaigns.conf import setting
from campaigns.links import RESERVED_VARIABLES, LinkOptions, check_link_options
from campaigns.models import Campaign, Sender, Template
from campaigns.models.campaigns import SMART_TEST_SIZE_MAX, SMART_WAIT_MINUTES_MAX
from campaigns.rendering import required_variables, variables_in
from campaigns.sending.errors import SendingError
from campaigns.sending.lifecycle import check_start_time
from campaigns.sending.smart_delivery import check_options
from campaigns.states import MessageType
from campaigns.variable_mapping import default_source, missing_values
from contacts.models import Group, Segment, Tag

NUMBER_SPLIT = re.compile(r"[\s,;]+")
LINE_SPLIT = re.compile(r"[\n,;]+")  # test numbers: one a line or comma-separated, spaces inside a number kept
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
SEND_NOW, SCHEDULE = "now", "schedule"
INTENT_DRAFT, INTENT_PREVIEW = "draft", "preview"


class CampaignForm(forms.Form):
    name = forms.CharField(max_length=120)
    groups = forms.MultipleChoiceField(required=False)
    segments = forms.MultipleChoiceField(required=False)
    tags = forms.MultipleChoiceField(required=False)
    numbers = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Numbers separated by commas or lines."
    )
    numbers_file = forms.FileField(required=False, label="Upload a list", help_text="txt or csv, one number a line.")
    sender = forms.ModelChoiceField(queryset=Sender.objects.none(), to_field_name="uid")
    template = forms.ModelChoiceField(queryset=Template.objects.none(), to_field_name="uid", required=False)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), label="Or free text")
    message_type = forms.ChoiceField(choices=MessageType.choices, initial=MessageType.AUTO, label="Type")
    max_units = forms.TypedChoiceField(
        choices=[("", "No limit"), ("2", "2 parts"), ("3", "3 parts")], coerce=int, empty_value=None, required=False
    )
    track_links = forms.BooleanField(
        required=False, label="Track links", help_text="Each URL of the text becomes a short link per recipient."
    )
    smart_link_url = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=2000,
        label="Smart link",
        help_text="Where {{smart_link}} in the text leads (shortened per recipient).",
    )
    when = forms.ChoiceField(
        choices=[(SEND_NOW, "Send now"), (SCHEDULE, "Schedule for the start time")],
        widget=forms.RadioSelect,
        required=False,
        label="When",
    )
    start_at = forms.DateTimeField(
        required=False,
        label="Start time",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    batch_size = forms.IntegerField(required=False, min_value=1, label="Batch size")
    batch_interval_minutes = forms.IntegerField(required=False, min_value=1, label="Minutes between batches")
    throttle_per_second = forms.IntegerField(required=False, min_value=1, label="Messages per second at most")
    smart_delivery = forms.BooleanField(
        required=False,
        label="Smart Delivery",
        help_text="Send to a test batch first; the rest is cancelled automatically when DLT refuses the test batch.",
    )
    smart_test_size = forms.IntegerField(
        required=False, min_value=1, max_value=SMART_TEST_SIZE_MAX, label="Test batch size", initial=10
    )
    smart_test_numbers = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Test numbers",
        help_text="Instead of random recipients: these numbers (one a line) get the test batch and the campaign.",
    )
    smart_wait_minutes = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=SMART_WAIT_MINUTES_MAX,
        label="Minutes to wait",
        initial=15,
        help_text="After the test batch has left, before it is judged.",
    )
    smart_max_reject_percent = forms.IntegerField(
        required=False,
        min_value=0,
        max_value=100,
        label="Cancel above this % of DLT rejections",
        initial=0,
        help_text="0: any DLT rejection in the test batch cancels the rest.",
    )

    def __init__(self, *args, account, intent: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.intent = intent
        self.fields["start_at"].help_text = (
            f"Only with “Schedule”: in the future, up to {setting('SMS_SCHEDULE_MAX_DAYS')} days ahead, "
            f"in the account's time zone ({account.time_zone})."
        )
        self.fields["groups"].choices = [(str(g.uid), g.name) for g in Group.objects.for_account(account)]
        self.fields["segments"].choices = [(str(s.uid), s.name) for s in Segment.objects.for_account(account)]
        self.fields["tags"].choices = [(t.name, t.name) for t in Tag.objects.for_account(account)]
        self.fields["sender"].queryset = Sender.objects.for_account(account).approved()
        self.fields["template"].queryset = Template.objects.for_account(account).approved().select_related("sender")

    def body(self) -> str:
        template = self.cleaned_data.get("template") if hasattr(self, "cleaned_data") else None
        return template.body if template else (self.cleaned_data.get("text") or "")

    def variables(self) -> list[str]:
        return [name for name in variables_in(self.body()) if name not in RESERVED_VARIABLES]

    def mapping(self) -> dict:
        """`map_<var>_source` / `map_<var>_default` inputs as the campaign's variable mapping; a variable not
        shown yet gets its default source (a contact field or attribute of the same name)."""
        mapping = {}
        for name in self.variables():
            key = f"map_{name}_source"
            source = self.data[key].strip() if key in self.data else default_source(self.account, name)
            mapping[name] = {"source": source, "default": self.data.get(f"map_{name}_default") or ""}
        return mapping

    def clean_numbers_file(self):
        upload = self.cleaned_data.get("numbers_file")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError("The list is larger than 5 MB; import the contacts into a group instead.")
        return upload

    def clean_start_at(self):
        value = self.cleaned_data.get("start_at")
        if value is not None and timezone.is_naive(value):
            value = value.replace(tzinfo=zoneinfo.ZoneInfo(self.account.time_zone))
        return value

    def clean(self):
        data = super().clean()
        template, sender = data.get("template"), data.get("sender")
        if template is None and not (data.get("text") or "").strip():
            self.add_error("template", "Choose an approved template or write a text.")
        if template is not None and sender is not None and template.sender_id not in (None, sender.pk):
            self.add_error("template", f"This template is registered for {template.sender.name}, not {sender.name}.")
        if bool(data.get("batch_size")) != bool(data.get("batch_interval_minutes")):
            self.add_error("batch_size", "Give both the batch size and the minutes between batches.")
        for problem in missing_values(required_variables(self.body()), self.mapping()):
            self.add_error(None, problem)
        if not any([data.get("groups"), data.get("segments"), data.get("tags"), self.numbers_list()]):
            self.add_error("groups", "Choose at least one group, segment or tag, or give numbers.")
        self._clean_when(data)
        try:
            options = LinkOptions(bool(data.get("track_links")), data.get("smart_link_url") or "")
            check_link_options(self.body(), options)
        except SendingError as error:
            self.add_error("smart_link_url", str(error))
        self._clean_smart_delivery(data)
        return data

    def _clean_smart_delivery(self, data) -> None:
        """With Smart Delivery on: the test numbers in E.164, or a test batch smaller than the audience."""
        text = data.get("smart_test_numbers") or ""
        data["smart_test_numbers"] = []
        if not data.get("smart_delivery"):
            return
        numbers = [item.strip() for item in LINE_SPLIT.split(text) if item.strip()]
        try:
            data["smart_test_numbers"] = check_options(
                self.account,
                self.audience(),
                enabled=True,
                test_size=_or_default(data, "smart_test_size"),
                test_numbers=numbers,
            )
        except SendingError as error:
            self.add_error(error.field, str(error))

    def _clean_when(self, data) -> None:
        """Sending asks for the choice; "Schedule" asks for a time; any time given must be acceptable."""
        when, start_at = data.get("when"), data.get("start_at")
        if not when and self.intent not in (INTENT_DRAFT, INTENT_PREVIEW):
            self.add_error("when", "Choose “Send now” or “Schedule”.")
        if "start_at" in self.errors:
            return
        if when == SEND_NOW and start_at is not None:
            self.add_error(
                "start_at", "You chose “Send now” and gave a start time: clear the time, or choose “Schedule”."
            )
        elif when == SCHEDULE and start_at is None:
            self.add_error("start_at", "Give the start time, or choose “Send now”.")
        elif start_at is not None:
            try:
                check_start_time(start_at, timezone.now(), field="start_at")
            except SendingError as error:
                self.add_error("start_at", str(error))

    def sends_now(self) -> bool:
        return self.cleaned_data.get("when") == SEND_NOW

    def numbers_list(self) -> list[str]:
        text = (self.cleaned_data.get("numbers") or "") if hasattr(self, "cleaned_data") else ""
        upload = self.cleaned_data.get("numbers_file") if hasattr(self, "cleaned_data") else None
        if upload:
            upload.seek(0)
            text += "\n" + upload.read().decode("utf-8-sig", errors="replace")
        return [item for item in NUMBER_SPLIT.split(text) if item.strip()]

    def audience(self) -> dict:
        data = self.cleaned_data
        return {
            "groups": list(data.get("groups") or []),
            "segments": list(data.get("segments") or []),
            "tags": list(data.get("tags") or []),
            "numbers": self.numbers_list(),
        }

    def build(self, *, user=None) -> Campaign:
        """An unsaved Campaign from the valid form (preview and creation share it)."""
        data = self.cleaned_data
        return Campaign(
            account=self.account,
            name=data["name"],
            sender=data["sender"],
            template=data.get("template"),
            text="" if data.get("template") else data.get("text", ""),
            message_type=data.get("message_type") or MessageType.AUTO,
            max_units=data.get("max_units"),
            audience=self.audience(),
            variable_mapping=self.mapping(),
            start_at=data.get("start_at"),
            batch_size=data.get("batch_size"),
            batch_interval_minutes=data.get("batch_interval_minutes"),
            throttle_per_second=data.get("throttle_per_second"),
            track_links=bool(data.get("track_links")),
            smart_link_url=data.get("smart_link_url") or "",
            smart_delivery=bool(data.get("smart_delivery")),
            smart_test_size=_or_default(data, "smart_test_size"),
            smart_test_numbers=data.get("smart_test_numbers") or [],
            smart_wait_minutes=_or_default(data, "smart_wait_minutes"),
            smart_max_reject_percent=_or_default(data, "smart_max_reject_percent"),
            created_by=user,
        )


def _or_default(data: dict, name: str) -> int:
    """A Smart Delivery figure left empty takes the model's default."""
    value = data.get(name)
    return Campaign._meta.get_field(name).default if value is None else value
