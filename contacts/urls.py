"""Browser routes of the contacts app."""

from contacts.urls_unsubscribers import urlpatterns as unsubscriber_urls

app_name = "contacts"

urlpatterns = [
    *unsubscriber_urls,
]
