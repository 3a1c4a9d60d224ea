"""Community pages, under /community/."""

app_name = "community"

urlpatterns: list = []
