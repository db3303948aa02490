"""`{{ user|display_name }}`: a person as the system names them everywhere (models.display_name);
`{{ user|kan_registrera }}`: whether the main menu offers registering a skrivelse."""

from django import template

from ..models import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user):
    return _display_name(user or None)  # a missing variable is "" in a template


@register.filter
def kan_registrera(user):
    """Whether the user may register a case (`views.kan_registrera`): the menu offered the page
    to everyone, and led a chef or a secretary to a refusal."""
    from ..views import kan_registrera as _kan_registrera

    return bool(user) and user.is_authenticated and _kan_registrera(user)
