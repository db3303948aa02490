"""`{{ record|handelse }}`: what a history row records, in Swedish. django-simple-history has
no Swedish catalogue, so its own `get_history_type_display` says "Created", "Changed", "Deleted".

`{% mina_handelser as handelser %}`: the signed-in user's recent actions, for the admin's start
page (templates/admin/index.html), read from that history (`tidslinje.mina_handelser`)."""

from django import template
from django.urls import reverse
from django.utils.text import capfirst

from ..tidslinje import mina_handelser as _mina_handelser

register = template.Library()

HANDELSER = {"+": "Skapad", "~": "Ändrad", "-": "Borttagen"}


@register.filter
def handelse(record):
    return HANDELSER.get(record.history_type, "")


@register.simple_tag(takes_context=True)
def mina_handelser(context, antal=10):
    """Each action as the box shows it: what was done, to what (linked to its page in the admin,
    unless it was deleted), what kind of thing that is, and when. Every history it reads is of a
    model with an admin page, or leads to one (`tidslinje._mina_handelser_fran`)."""
    request = context["request"]
    handelser = []
    for rad in _mina_handelser(request.user, antal):
        sida, url = rad["sida"], None
        if rad["typ"] != "-" or sida is not rad["model"]:
            namn = f"admin:{sida._meta.app_label}_{sida._meta.model_name}_change"
            url = reverse(namn, args=[rad["sida_id"]], current_app=request.current_app)
        text = rad["orsak"] or HANDELSER.get(rad["typ"], "")
        if rad["fler"]:
            text += f" (och {rad['fler']} {'punkt' if rad['fler'] == 1 else 'punkter'} till)"
        handelser.append({**rad, "text": text, "slag": capfirst(rad["model"]._meta.verbose_name), "url": url})
    return handelser
