"""Smart link API: GET /sms/links[/{id}] (the account's links with recipients, clicks and visitors;
`filter[campaign]`, `filter[group_id]`) and GET /sms/links/{id}/visits (BICS "View Smart Link Visits")."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from campaigns.filtersets import SmartLinkFilterSet
from campaigns.links import smart_links_with_counts
from campaigns.models import LinkVisit, SmartLink
from portal.api.pagination import EnvelopePagination
from portal.api.viewsets import AccountScopedViewSet
from portal.masking import mask_msisdn


class SmartLinkSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    campaign_id = serializers.SerializerMethodField(help_text="The campaign's id; null for an API send.")
    url = serializers.CharField(source="target_url", read_only=True, help_text="Where the short URLs lead.")
    sender = serializers.CharField(source="sender_name", read_only=True)
    position = serializers.IntegerField(read_only=True, help_text="0: {{smart_link}}; 1, 2, …: the text's URLs.")
    recipients = serializers.IntegerField(read_only=True, help_text="Short URLs sent (one per recipient).")
    clicks = serializers.IntegerField(read_only=True, help_text="Visits of its short URLs.")
    visitors = serializers.IntegerField(read_only=True, help_text="Recipients who followed their short URL.")

    class Meta:
        model = SmartLink
        fields = ["id", "campaign_id", "group_id", "position", "url", "sender", "recipients", "clicks", "visitors"]
        fields += ["created_at"]
        read_only_fields = fields

    def get_campaign_id(self, link) -> str | None:
        return str(link.group_id) if link.campaign_id else None


class LinkVisitSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="uid", read_only=True)
    link_id = serializers.UUIDField(source="link.uid", read_only=True)
    mobile = serializers.SerializerMethodField(help_text="The recipient (masked for mobile_secure accounts).")

    class Meta:
        model = LinkVisit
        fields = [
            "id",
            "link_id",
            "mobile",
            "user_agent",
            "browser",
            "browser_version",
            "platform",
            "platform_version",
            "device_type",
            "device_brand",
            "device_model",
            "country",
            "country_code",
            "region",
            "city",
            "created_at",
        ]
        read_only_fields = fields

    def get_mobile(self, visit) -> str:
        return mask_msisdn(visit.recipient, self.context.get("account"))


class SmartLinkViewSet(AccountScopedViewSet):
    """The account's smart links, newest first, and the visits of each."""

    queryset = SmartLink.objects.all()
    serializer_class = SmartLinkSerializer
    filterset_class = SmartLinkFilterSet
    resource_name = "Smart Link"
    http_method_names = ["get"]
    ACTION_MESSAGES = {**AccountScopedViewSet.ACTION_MESSAGES, "visits": "Visits"}

    def get_queryset(self):
        return smart_links_with_counts(super().get_queryset())

    @extend_schema(responses=LinkVisitSerializer(many=True), summary="View smart link visits")
    @action(detail=True, methods=["get"])
    def visits(self, request, id=None):
        link = self.get_object()
        visits = LinkVisit.objects.filter(link=link).select_related("link").order_by("-created_at", "-id")
        paginator = EnvelopePagination()
        page = paginator.paginate_queryset(visits, request, view=self)
        context = self.get_serializer_context()
        data = LinkVisitSerializer(page, many=True, context=context).data
        return paginator.get_paginated_response(data)
