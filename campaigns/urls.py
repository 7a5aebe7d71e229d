"""Browser routes of the campaigns app."""

app_name = "campaigns"

urlpatterns = []
