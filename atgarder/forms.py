import functools

from django import forms
from django.template.loader import render_to_string

from arenden.forms import ManyIdsField
from arenden.search import MAX_SOKTEXT

from .constants import AtgardTyp
from .models import Aktor, Drogscen


class AtgardSokForm(forms.Form):
    q = forms.CharField(label="Sök", required=False, max_length=MAX_SOKTEXT)
    typ = forms.ChoiceField(label="Typ", required=False, choices=[("", "Alla typer"), *AtgardTyp.choices])
    drogscen = forms.ModelChoiceField(
        label="Drogscen", required=False, queryset=Drogscen.objects.all(), empty_label="Alla drogscener"
    )
    aktor = forms.ModelChoiceField(
        label="Aktör", required=False, queryset=Aktor.objects.all(), empty_label="Alla aktörer"
    )


class NyAtgardForm(forms.Form):
    typ = forms.ChoiceField(label="Typ", choices=AtgardTyp.choices)
    titel = forms.CharField(label="Titel", max_length=200)
    beskrivning = forms.CharField(
        label="Beskrivning",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Texten som skrivs ut som en punkt i tjänsteutlåtandet. Tom rad skiljer stycken åt.",
    )
    # Check boxes, not a multiple select list: in a list a plain click on a second actor undid the
    # first, and few officers know to hold Ctrl.
    aktorer = ManyIdsField(
        label="Aktörer", queryset=Aktor.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    drogscener = ManyIdsField(
        label="Drogscener", queryset=Drogscen.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    period_start = forms.DateField(label="Period från", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_slut = forms.DateField(label="Period till", required=False, widget=forms.DateInput(attrs={"type": "date"}))


def editorns_formular():
    """The editor's search and new-åtgärd forms as HTML, their place and actor choices read once
    each as (id, namn) (the options the querysets give: both models order by namn, and an
    option's label is its namn). The forms are never bound on the editor page, so their HTML
    depends on nothing but those two lists; it is rendered once per process and list, since
    Django renders each of the some 120 options through its own widget template."""
    drogscener = tuple(Drogscen.objects.values_list("pk", "namn"))
    aktorer = tuple(Aktor.objects.values_list("pk", "namn"))
    return _formular_html(drogscener, aktorer)


@functools.lru_cache(maxsize=8)
def _formular_html(drogscener, aktorer):
    sokform = AtgardSokForm(auto_id="sok_%s", label_suffix="")
    sokform.fields["drogscen"].choices = [("", sokform.fields["drogscen"].empty_label), *drogscener]
    sokform.fields["aktor"].choices = [("", sokform.fields["aktor"].empty_label), *aktorer]
    nyform = NyAtgardForm(auto_id="ny_%s")
    nyform.fields["drogscener"].choices = drogscener
    nyform.fields["aktorer"].choices = aktorer
    return (
        render_to_string("atgarder/_sokformular.html", {"sokform": sokform}),
        render_to_string("atgarder/_nyformular.html", {"nyform": nyform}),
    )
