from django import forms

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
    aktorer = ManyIdsField(label="Aktörer", queryset=Aktor.objects.all(), required=False)
    drogscener = ManyIdsField(label="Drogscener", queryset=Drogscen.objects.all(), required=False)
    period_start = forms.DateField(label="Period från", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    period_slut = forms.DateField(label="Period till", required=False, widget=forms.DateInput(attrs={"type": "date"}))


def editorns_formular():
    """The editor's search and new-åtgärd forms, their place and actor choices read once each
    as (id, namn): bound to the querysets, the four lists were four queries through server-side
    cursors and a model object per option, on every opening of the editor. The options are the
    same the querysets give (both models order by namn, and an option's label is its namn)."""
    drogscener = list(Drogscen.objects.values_list("pk", "namn"))
    aktorer = list(Aktor.objects.values_list("pk", "namn"))
    sokform = AtgardSokForm(auto_id="sok_%s", label_suffix="")
    sokform.fields["drogscen"].choices = [("", sokform.fields["drogscen"].empty_label), *drogscener]
    sokform.fields["aktor"].choices = [("", sokform.fields["aktor"].empty_label), *aktorer]
    nyform = NyAtgardForm(auto_id="ny_%s")
    nyform.fields["drogscener"].choices = drogscener
    nyform.fields["aktorer"].choices = aktorer
    return sokform, nyform
