"""`{{ user|display_name }}`: a person as the system names them everywhere (models.display_name)."""

from django import template

from ..models import display_name as _display_name

register = template.Library()


@register.filter
def display_name(user):
    return _display_name(user or None)  # a missing variable is "" in a template
