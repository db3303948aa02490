"""Links for every row of a list at the cost of one reverse().

`{% url %}` resolves the pattern anew for each row, about a quarter of the time of a page of 50
cases with two links each. `url_per_id(name)` reverses the name once with a marker id and fills
in each row's id, which gives the same URL as `reverse(name, args=[id])`."""

from django.urls import reverse

_MARKER = 918273645546372819


def url_per_id(name, current_app=None):
    url = reverse(name, args=[_MARKER], current_app=current_app)
    before, marker, after = url.rpartition(str(_MARKER))
    if not marker or str(_MARKER) in before:
        return lambda pk: reverse(name, args=[pk], current_app=current_app)
    return lambda pk: f"{before}{int(pk)}{after}"
