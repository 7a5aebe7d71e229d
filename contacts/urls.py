"""Browser routes of the contacts app."""

app_name = "contacts"

urlpatterns = []
