"""`{{ record|handelse }}`: what a history row records, in Swedish. django-simple-history has
no Swedish catalogue, so its own `get_history_type_display` says "Created", "Changed", "Deleted"."""

from django import template

register = template.Library()

HANDELSER = {"+": "Skapad", "~": "Ändrad", "-": "Borttagen"}


@register.filter
def handelse(record):
    return HANDELSER.get(record.history_type, "")
