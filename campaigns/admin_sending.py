"""Admin of connectors, prices, campaigns, messages, delivery reports, balance moves and simulator submissions."""

from django import forms
from django.contrib import admin

from campaigns.connectors.settings import SettingsError, validate_settings
from campaigns.models import (
    BalanceTransaction,
    Campaign,
    Connector,
    DeliveryReport,
    Message,
    Price,
    SimulatorSubmission,
)


class ConnectorForm(forms.ModelForm):
    """The upstream password is write-only: never rendered back, blank keeps the stored one; settings are
    checked by the one home of each kind's settings."""

    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), help_text="Leave empty to keep the stored one."
    )

    class Meta:
        model = Connector
        fields = ["name", "kind", "config", "is_active"]

    def clean(self):
        cleaned = super().clean()
        current = self.instance if self.instance.pk else None
        try:
            cleaned["config"] = validate_settings(
                cleaned.get("kind", ""), cleaned.get("config") or {}, cleaned.get("password"), current=current
            )
        except SettingsError as exc:
            for name, message in exc.errors.items():
                self.add_error(name if name in self.fields else "config", f"{name}: {message}")
        return cleaned

    def save(self, commit=True):
        connector = super().save(commit=False)
        connector.config = self.cleaned_data["config"]
        if self.cleaned_data.get("password"):
            connector.secret = self.cleaned_data["password"]
        if commit:
            connector.save()
        return connector


@admin.register(Connector)
class ConnectorAdmin(admin.ModelAdmin):
    form = ConnectorForm
    list_display = ["name", "kind", "is_active", "uid", "created_at"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "uid"]
    readonly_fields = ["uid", "created_at"]


@admin.register(Price)
class PriceAdmin(admin.ModelAdmin):
    list_display = ["country", "service", "price", "currency", "status", "account", "updated_at"]
    list_filter = ["service", "status", "currency", "account"]
    search_fields = ["country", "service", "account__name"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "account",
        "sender",
        "state",
        "flash",
        "destination_port",
        "recipients_count",
        "suppressed_count",
        "start_at",
        "smart_state",
    ]
    list_filter = ["state", "message_type", "flash", "smart_delivery", "smart_state", "account"]
    search_fields = ["name", "uid", "account__name", "sender__name"]
    readonly_fields = [
        "uid",
        "created_at",
        "updated_at",
        "scheduled_at",
        "started_at",
        "finished_at",
        "smart_state",
        "smart_checked_at",
        "smart_result",
    ]
    raw_id_fields = ["sender", "template", "created_by", "connector", "api_token"]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = [
        "recipient",
        "account",
        "sender_name",
        "state",
        "error_code",
        "parts",
        "flash",
        "destination_port",
        "cost",
        "created_at",
    ]
    list_filter = ["state", "encoding", "flash", "country", "account"]
    search_fields = ["recipient", "uid", "custom_id", "connector_message_id", "group_id"]
    readonly_fields = ["uid", "group_id", "created_at", "updated_at", "sent_at", "done_at"]
    raw_id_fields = ["campaign", "sender", "template", "connector", "api_token"]
    list_select_related = ["account"]
    show_full_result_count = False


@admin.register(DeliveryReport)
class DeliveryReportAdmin(admin.ModelAdmin):
    list_display = ["message", "code", "status", "state", "applied", "source", "created_at"]
    list_filter = ["state", "applied", "source"]
    search_fields = ["message__uid", "message__recipient", "code"]
    raw_id_fields = ["message"]


@admin.register(BalanceTransaction)
class BalanceTransactionAdmin(admin.ModelAdmin):
    list_display = ["account", "kind", "amount", "balance_after", "messages", "campaign", "actor", "created_at"]
    list_filter = ["kind", "account"]
    search_fields = ["account__name", "note"]
    raw_id_fields = ["campaign", "actor", "api_token"]


@admin.register(SimulatorSubmission)
class SimulatorSubmissionAdmin(admin.ModelAdmin):
    list_display = [
        "recipient",
        "message_uid",
        "dlr_code",
        "flash",
        "destination_port",
        "duplicates",
        "report_due_at",
        "reported_at",
    ]
    list_filter = ["dlr_code", "flash"]
    search_fields = ["recipient", "message_uid"]
