"""Admin of the SMPP gateway (platform staff): credentials (changed and deleted through
`campaigns.smpp_gateway.credentials`, so it is audited; issued only on the SMPP page or the API, where the password
is shown once; the hash is never shown), and read-only views of bound sessions, refused binds and receipts."""

from django.contrib import admin

from campaigns.models import SmppBindFailure, SmppCredential, SmppReceipt, SmppSession
from campaigns.smpp_gateway import credentials


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the gateway writes: looked at, never added or edited here."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SmppCredential)
class SmppCredentialAdmin(admin.ModelAdmin):
    list_display = ["system_id", "account", "label", "bind_limit", "throughput", "window", "is_active", "last_bound_at"]
    list_filter = ["is_active", "account"]
    search_fields = ["system_id", "label", "account__name", "account__slug"]
    list_select_related = ["account"]
    exclude = ["password_hash"]
    readonly_fields = ["uid", "account", "system_id", "created_by", "last_bound_at", "created_at", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        changes = {name: form.cleaned_data[name] for name in form.changed_data if name in credentials.EDITABLE_FIELDS}
        credentials.update_credential(SmppCredential.objects.get(pk=obj.pk), changes, acting_user=request.user)

    def delete_model(self, request, obj) -> None:
        credentials.delete_credential(obj, acting_user=request.user)

    def delete_queryset(self, request, queryset) -> None:
        for credential in queryset.select_related("account"):
            credentials.delete_credential(credential, acting_user=request.user)


@admin.register(SmppSession)
class SmppSessionAdmin(ReadOnlyAdmin):
    list_display = ["credential", "account", "address", "bind_type", "tls", "server", "bound_at", "last_seen_at"]
    list_filter = ["bind_type", "tls", "account"]
    search_fields = ["credential__system_id", "address", "server"]
    list_select_related = ["credential", "account"]


@admin.register(SmppBindFailure)
class SmppBindFailureAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "system_id", "address", "reason", "command_status", "account"]
    list_filter = ["command_status", "account"]
    search_fields = ["system_id", "address", "reason"]
    list_select_related = ["account"]
    date_hierarchy = "created_at"


@admin.register(SmppReceipt)
class SmppReceiptAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "credential", "account", "state", "attempts", "source_addr", "created_at"]
    list_filter = ["kind", "state", "account"]
    search_fields = ["credential__system_id", "source_addr", "destination_addr", "short_message"]
    list_select_related = ["credential", "account"]
    raw_id_fields = ["message", "inbound"]
    date_hierarchy = "created_at"
