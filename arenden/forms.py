from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q

from .models import Mall, Skrivelse

# A skrivelse is a few pages; anything far larger is a mistake (or a scanned book).
MAX_PDF_BYTES = 10 * 1024 * 1024


class SkrivelseForm(forms.ModelForm):
    """Register a new ärende from a skrivelse: what the nämnd sent, and when."""

    arendemening = forms.CharField(
        label="Ärendemening",
        max_length=300,
        required=False,
        help_text="Lämna tomt för ”<titel> – Svar på skrivelse”.",
    )

    class Meta:
        model = Skrivelse
        fields = ["titel", "forfattare", "beredning_datum", "text", "fil"]
        widgets = {
            "beredning_datum": forms.DateInput(attrs={"type": "date"}),
            "text": forms.Textarea(attrs={"rows": 10}),
            "fil": forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        }
        help_texts = {"text": "Skrivelsens text, om den inte laddas upp som PDF."}

    def clean_fil(self):
        fil = self.cleaned_data.get("fil")
        if not fil:
            return fil
        if fil.size > MAX_PDF_BYTES:
            raise forms.ValidationError(
                f"Filen är {fil.size / 1024 / 1024:.1f} MB; högst {MAX_PDF_BYTES // 1024 // 1024} MB kan laddas upp."
            )
        # The name says nothing about the content: a PDF starts with "%PDF-".
        fil.seek(0)
        start = fil.read(1024)
        fil.seek(0)
        if b"%PDF-" not in start:
            raise forms.ValidationError("Filen är inte en PDF. Ladda upp skrivelsen som PDF eller klistra in texten.")
        return fil

    def clean(self):
        cleaned = super().clean()
        if not (cleaned.get("text") or "").strip() and not cleaned.get("fil") and not self.errors:
            raise forms.ValidationError("Skriv in skrivelsens text eller ladda upp den som PDF.")
        return cleaned


class NyttTjansteutlatandeForm(forms.Form):
    mall = forms.ModelChoiceField(label="Mall", queryset=Mall.objects.filter(aktiv=True), empty_label=None)
    titel = forms.CharField(label="Titel", max_length=300)
    undertitel = forms.CharField(label="Undertitel", max_length=300, required=False, initial="Svar på skrivelse")
    sammantradesdatum = forms.DateField(
        label="Sammanträde", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class UppgifterForm(forms.Form):
    """The document's header fields; `version` is the document version the form was shown at."""

    titel = forms.CharField(label="Titel", max_length=300)
    undertitel = forms.CharField(label="Undertitel", max_length=300, required=False)
    sammantradesdatum = forms.DateField(
        label="Sammanträde", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


def person_label(user):
    profil = getattr(user, "profil", None)
    name = user.get_full_name() or user.get_username()
    return f"{name}, {profil.befattning}" if profil and profil.befattning else name


class SkickaForAttestForm(forms.Form):
    forsta = forms.ModelChoiceField(label="Första attestant", queryset=None)
    andra = forms.ModelChoiceField(label="Andra attestant", queryset=None, required=False)

    def __init__(self, *args, attestanter, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        # The Attestant role, and the defaults even if the role was not (yet) given to them.
        qs = (
            User.objects.filter(Q(groups__name="Attestant") | Q(pk__in=[u.pk for u in attestanter]), is_active=True)
            .select_related("profil")
            .order_by("first_name", "last_name")
            .distinct()
        )
        for name in ("forsta", "andra"):
            self.fields[name].queryset = qs
            self.fields[name].label_from_instance = person_label
        if attestanter:
            self.fields["forsta"].initial = attestanter[0].pk
        if len(attestanter) > 1:
            self.fields["andra"].initial = attestanter[1].pk

    def clean(self):
        cleaned = super().clean()
        forsta, andra = cleaned.get("forsta"), cleaned.get("andra")
        if forsta and andra and forsta == andra:
            raise forms.ValidationError("Välj två olika attestanter.")
        return cleaned

    @property
    def attestanter(self):
        return [u for u in (self.cleaned_data.get("forsta"), self.cleaned_data.get("andra")) if u]
