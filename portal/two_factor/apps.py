"""The Django admin app with the portal's admin site as its default site (replaces "django.contrib.admin" in
INSTALLED_APPS; the site itself lives in portal.two_factor.admin_site, imported once the models are loaded)."""

from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    default_site = "portal.two_factor.admin_site.PortalAdminSite"
