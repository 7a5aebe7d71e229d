"""Smart links (BICS Smart Link): URLs of a send shortened per recipient, and the visits of the short URLs.

- `SmartLink`: the n-th shortened URL of one send (a campaign or an API send): `{{smart_link}}` or a URL of the
  text with "track links" on. Clicks are counted from its visits.
- `ShortLink`: one recipient's short code of a smart link, written in bulk with the send's messages. Its code is
  its primary key (the redirect's one indexed lookup); it is reached through its smart link (account-scoped) or by
  its code, so it carries no account of its own. `target_url` is empty when it is the smart link's.
- `LinkVisit`: one followed short URL: when, the user agent and what it says (browser, platform, device), and the
  country when a local GeoIP database is configured.
"""

from django.db import models

from portal.tenancy import AccountScopedModel

__all__ = ["LinkVisit", "ShortLink", "SmartLink"]


class SmartLink(AccountScopedModel):
    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, null=True, blank=True, related_name="smart_links"
    )
    group_id = models.UUIDField(help_text="The API send, or the campaign's public id, the link belongs to.")
    position = models.PositiveSmallIntegerField(help_text="Which shortened URL of the text (0: the first).")
    target_url = models.TextField(help_text="Where its short URLs lead (the first recipient's, when they differ).")
    sender_name = models.CharField(max_length=15, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["group_id", "position"], name="unique_smart_link_position")]

    def __str__(self) -> str:
        return f"{self.target_url} (#{self.position + 1})"


class ShortLink(models.Model):
    code = models.CharField(max_length=16, primary_key=True)
    link = models.ForeignKey(SmartLink, on_delete=models.CASCADE, related_name="short_links")
    message_uid = models.UUIDField(help_text="The message that carries this short URL.")
    recipient = models.CharField(max_length=16)
    target_url = models.TextField(blank=True, help_text="Empty: the smart link's target.")

    def __str__(self) -> str:
        return self.code

    @property
    def destination(self) -> str:
        return self.target_url or self.link.target_url


class LinkVisit(AccountScopedModel):
    link = models.ForeignKey(SmartLink, on_delete=models.CASCADE, related_name="visits", db_index=False)
    short_link = models.ForeignKey(ShortLink, on_delete=models.CASCADE, related_name="visits", db_index=False)
    recipient = models.CharField(max_length=16)
    user_agent = models.CharField(max_length=500, blank=True)
    browser = models.CharField(max_length=60, blank=True)
    browser_version = models.CharField(max_length=30, blank=True)
    platform = models.CharField(max_length=60, blank=True)
    platform_version = models.CharField(max_length=30, blank=True)
    device_type = models.CharField(max_length=20, blank=True)
    device_brand = models.CharField(max_length=60, blank=True)
    device_model = models.CharField(max_length=60, blank=True)
    country = models.CharField(max_length=80, blank=True)
    country_code = models.CharField(max_length=2, blank=True)
    region = models.CharField(max_length=80, blank=True)
    city = models.CharField(max_length=80, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["link", "-created_at"], name="link_visit_recent"),
            models.Index(fields=["short_link"], name="link_visit_short_link"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} {self.created_at:%Y-%m-%d %H:%M}"
