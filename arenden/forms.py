from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.html import escape
from pypdf import PdfReader

from .constants import KOMMENTAR_SAKNAS, kommentaren_for_lang
from .models import Mall, Skrivelse, attestanter, display_name, medarbetare


def check_pdf(fil):
    """Refuse an upload unless its content is a readable PDF within PDF_MAX_UPLOAD_MB.

    The file name and the browser's content type say nothing about the content. A PDF starts
    with "%PDF-", and pypdf must be able to read its pages: it appends them to the document
    later, so a file it cannot read would only fail then, in front of someone else."""
    limit = settings.PDF_MAX_UPLOAD_MB
    if fil.size > limit * 1024 * 1024:
        raise forms.ValidationError(
            f"Filen är {fil.size / 1024 / 1024:.1f} MB; högst {limit} MB kan laddas upp.", code="for_stor"
        )
    fil.seek(0)
    if fil.read(5) != b"%PDF-":
        fil.seek(0)
        raise forms.ValidationError(
            "Filen är inte en PDF (innehållet är av ett annat slag, vad filen än heter). Spara den som PDF och "
            "ladda upp den igen.",
            code="inte_pdf",
        )
    fil.seek(0)
    try:
        reader = PdfReader(fil, strict=False)
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except Exception:  # pypdf raises many kinds (PdfReadError, ValueError, KeyError …) on broken files
        pages, encrypted = None, False
    finally:
        fil.seek(0)
    if encrypted:
        raise forms.ValidationError(
            "PDF:en är lösenordsskyddad och kan inte fogas till dokumentet. Spara den utan lösenord och ladda upp "
            "den igen.",
            code="krypterad",
        )
    if not pages:
        raise forms.ValidationError(
            "Filen börjar som en PDF men går inte att läsa (den kan vara skadad eller ofullständig). Spara den som "
            "PDF på nytt och ladda upp den igen.",
            code="trasig_pdf",
        )
    return fil


class ManyIdsField(forms.ModelMultipleChoiceField):
    """A multiple choice of rows by id that refuses ids outside the 64-bit range as unknown
    choices: SQLite cannot even compare with such a number and fails the request instead."""

    def _check_values(self, value):
        for pk in value:
            try:
                number = int(str(pk))
            except ValueError:
                continue  # the base class refuses it as it always did
            if not -(2**63) <= number < 2**63:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                )
        return super()._check_values(value)


class PdfUploadField(forms.FileField):
    """The form field for every uploaded PDF (skrivelser and bilagor, officers' pages and admin)."""

    def to_python(self, data):
        fil = super().to_python(data)
        return check_pdf(fil) if fil else fil


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
        field_classes = {"fil": PdfUploadField}

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("arendemening") and cleaned.get("titel"):
            mening = f"{cleaned['titel']} – Svar på skrivelse"
            if len(mening) > self.fields["arendemening"].max_length:
                self.add_error(
                    "arendemening",
                    "Titeln är för lång för att bli ärendemening med ”– Svar på skrivelse”. Skriv en kortare "
                    f"ärendemening (högst {self.fields['arendemening'].max_length} tecken).",
                )
            cleaned["arendemening"] = mening
        if not (cleaned.get("text") or "").strip() and not cleaned.get("fil") and not self.errors:
            raise forms.ValidationError("Skriv in skrivelsens text eller ladda upp den som PDF.")
        return cleaned


class AterremissForm(forms.Form):
    """The chef's comment on a return, checked beside the field (empty, or too long) as
    `services.aterremittera` checks it: a refusal at the top of the page was far from the field to
    correct, and not tied to it for a screen reader. A plain Field, not a CharField: a NUL is
    dropped by the service, not refused here."""

    kommentar = forms.Field(required=False)

    def clean_kommentar(self):
        kommentar = (self.cleaned_data["kommentar"] or "").replace("\x00", "").strip()
        if not kommentar:
            raise forms.ValidationError(KOMMENTAR_SAKNAS, code="required")
        if for_lang := kommentaren_for_lang(kommentar):
            raise forms.ValidationError(for_lang, code="max_length")
        return kommentar


class NyttTjansteutlatandeForm(forms.Form):
    mall = forms.ModelChoiceField(
        label="Mall",
        queryset=Mall.objects.filter(aktiv=True),
        empty_label=None,
        error_messages={"invalid_choice": "Mallen går inte längre att välja. Välj en av dem som finns i listan."},
    )
    titel = forms.CharField(label="Titel", max_length=300)
    undertitel = forms.CharField(label="Undertitel", max_length=300, required=False, initial="Svar på skrivelse")
    sammantradesdatum = forms.DateField(
        label="Sammanträde", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class UppgifterForm(forms.Form):
    """The document's header fields; `version` is the document version the form was shown at.

    Each field carries a hidden copy of what the page showed (`show_hidden_initial`), and a save
    is checked against that: the version alone cannot tell, as putting the document on a
    meeting's list and taking it off again changes its sammanträdesdatum without a new version."""

    FALT = ("titel", "undertitel", "sammantradesdatum")

    titel = forms.CharField(label="Titel", max_length=300, show_hidden_initial=True)
    undertitel = forms.CharField(label="Undertitel", max_length=300, required=False, show_hidden_initial=True)
    sammantradesdatum = forms.DateField(
        label="Sammanträde", required=False, widget=forms.DateInput(attrs={"type": "date"}), show_hidden_initial=True
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def visat(self):
        """What the page showed for each header field, or None for a page made before the
        fields carried their hidden copies (the version is all there is to go by then)."""
        if any(self[name].html_initial_name not in self.data for name in self.FALT):
            return None
        return visade_varden(self, self.FALT)


def lagg_till_vagran(form, vagran):
    """A service's refusal (a WorkflowError or ValidationError) on the form: a ValidationError's
    messages beside the fields it names that the form has, anything else above the form."""
    if isinstance(vagran, forms.ValidationError) and hasattr(vagran, "error_dict"):
        for falt, fel in vagran.error_dict.items():
            form.add_error(falt if falt in form.fields else None, fel)
    else:
        form.add_error(None, "; ".join(getattr(vagran, "messages", [str(vagran)])))


def visade_varden(form, falt):
    """What the page showed for each of `falt` that carries a hidden copy of it (Django's
    `show_hidden_initial`), as values: what a save is checked against (`andrat_av_andra`)."""
    visat = {}
    for name in falt:
        field = form.fields.get(name)
        if field is None or not field.show_hidden_initial:
            continue
        posted = form._widget_data_value(field.hidden_widget(), form[name].html_initial_name)
        try:
            visat[name] = field.to_python(posted)
        except forms.ValidationError:
            visat[name] = None  # not a value the page can have shown: counts as changed by others
    return visat


def visa_sparat(form, falt, sparat):
    """A refused form shown again over what is stored now: the hidden copies of `falt` (the
    values the page showed, `show_hidden_initial`) and the fields the user did not change take
    `sparat(name)`, the stored value; the fields the user changed keep what they typed."""
    andrade = form.changed_data
    form.data = form.data.copy()
    for name in falt:
        field = form.fields.get(name)
        if field is None or not field.show_hidden_initial:
            continue
        varde = field.prepare_value(sparat(name))
        if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
            varde = [str(v) for v in varde or ()]
        else:
            varde = "" if varde is None else str(varde)
        for nyckel in (form[name].html_initial_name, *(() if name in andrade else (form.add_prefix(name),))):
            if isinstance(varde, list) and hasattr(form.data, "setlist"):
                form.data.setlist(nyckel, varde)  # a QueryDict: one value a choice
            else:
                form.data[nyckel] = varde


class DraTillbakaForm(forms.Form):
    """The confirmation that takes a document back from attest; `omgang` is the attest round the
    page showed, so that a round sent anew since is not taken back unseen."""

    omgang = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=2**31 - 1)


def person_label(user):
    profil = getattr(user, "profil", None)
    name = display_name(user)
    return f"{name}, {profil.befattning}" if profil and profil.befattning else name


class SkickaForAttestForm(forms.Form):
    forsta = forms.ModelChoiceField(label="Första attestant", queryset=None)
    andra = forms.ModelChoiceField(label="Andra attestant", queryset=None, required=False)

    def __init__(self, *args, forvalda, tjansteutlatande, **kwargs):
        super().__init__(*args, **kwargs)
        User = get_user_model()
        tu = tjansteutlatande
        # A proposed chef (`forvalda`, the usual chain) whom sending would refuse, whoever sends it
        # (`kedjehinder`: a closed account, no attest permission, no access to the case), is neither
        # offered nor chosen: the field says why, where choosing them led only to that refusal.
        hinder = {person.pk: h for person in forvalda if (h := tu.kedjehinder(person))}
        forvalda = [person for person in forvalda if person.pk not in hinder]
        # Those who may attest in the document's förvaltning (the chain must see the case), and the
        # proposed chefs. Another förvaltning's chefs would only be refused, and their names and
        # titles are not the officer's to browse.
        i_forvaltningen = attestanter().filter(pk__in=medarbetare([tu.forvaltning_id]))
        qs = (
            User.objects.filter(
                Q(pk__in=i_forvaltningen.values("pk")) | Q(pk__in=[u.pk for u in forvalda]), is_active=True
            )
            .exclude(pk__in=hinder)
            .select_related("profil")
            .order_by("first_name", "last_name")
        )
        for name in ("forsta", "andra"):
            self.fields[name].queryset = qs
            self.fields[name].label_from_instance = person_label
        if forvalda:
            self.fields["forsta"].initial = forvalda[0].pk
        if len(forvalda) > 1:
            self.fields["andra"].initial = forvalda[1].pk
        if hinder:
            # Escaped here: Django's form templates print a help text as it is, and names are typed.
            self.fields["forsta"].help_text = escape(" ".join(f"Inte i listan: {h}" for h in hinder.values()))

    def clean(self):
        cleaned = super().clean()
        forsta, andra = cleaned.get("forsta"), cleaned.get("andra")
        if forsta and andra and forsta == andra:
            raise forms.ValidationError("Välj två olika attestanter.")
        return cleaned

    @property
    def attestanter(self):
        return [u for u in (self.cleaned_data.get("forsta"), self.cleaned_data.get("andra")) if u]
