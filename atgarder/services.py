"""State changes of the measure register. The officers' editor creates åtgärder through
`skapa_atgard` (adding each to its document in the same transaction), so that a new åtgärd has
its history (who, when, why) from its first row; the admin's change page saves one through
`andra_atgard`."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from arenden.services import andra_objekt, lagg_till_atgard, spara_med_orsak
from skarholmen.historik import en_historikrad

from .models import Atgard

# An åtgärd's fields that its admin page shows and changes, whose checksum is the page's version
# (`arenden.services.objektversion`): what a tjänsteutlåtande prints of it.
ATGARD_FALT = (
    "typ",
    "titel",
    "beskrivning",
    "aktorer",
    "drogscener",
    "period_start",
    "period_slut",
    "citerade_arenden",
)


def skapa_atgard(
    *,
    user,
    typ,
    titel,
    beskrivning,
    aktorer=(),
    drogscener=(),
    period_start=None,
    period_slut=None,
    tjansteutlatande=None,
):
    """Create an åtgärd with its aktörer and drogscener; validation errors are Swedish. The
    register is shared by every förvaltning: only a role that may add to it does (not a chef,
    a secretary or a registrator).

    With `tjansteutlatande` (the editor's "Skapa och lägg till") the åtgärd is added last in that
    document in the same transaction: a document locked meanwhile (put on a meeting's list,
    decided) refuses the addition with WorkflowError, and then the åtgärd is not stored either,
    instead of staying in the register as one nobody chose."""
    if not user.has_perm("atgarder.add_atgard"):
        raise PermissionDenied("Du har inte behörighet att lägga till åtgärder i registret.")
    atgard = Atgard(typ=typ, titel=titel, beskrivning=beskrivning, period_start=period_start, period_slut=period_slut)
    atgard.full_clean()
    with transaction.atomic():
        atgard._history_user = user
        atgard._change_reason = "Skapad i tjänsteutlåtandets editor"
        # One "+" row holding its aktörer and drogscener, not one more row for each set().
        with en_historikrad(atgard):
            atgard.save()
            atgard.aktorer.set(aktorer)
            atgard.drogscener.set(drogscener)
        if tjansteutlatande is not None:
            lagg_till_atgard(tjansteutlatande=tjansteutlatande, atgard=atgard, user=user)
    return atgard


def andra_atgard(*, atgard, falt, user, expected_version=None):
    """Save the fields named in `falt` as `atgard` holds them (the admin's change form); the
    caller sets the many-to-many fields among them while the row is still locked (the admin's
    request is one transaction). `expected_version` is the åtgärd's `objektversion` of
    ATGARD_FALT on the user's page: if someone changed one of those since, nothing is written and
    ConflictError says so. Documents print the åtgärd until they are sent for attest, so a change
    written over someone else's would be printed without either of them knowing."""
    return andra_objekt(
        obj=atgard,
        falt=falt,
        versionerade=ATGARD_FALT,
        user=user,
        perm="atgarder.change_atgard",
        benamning="åtgärden",
        expected_version=expected_version,
        alltid=("andrad",),
    )


def registrera_utfall(*, atgard, user, andringar):
    """Write in the åtgärd's history what was done to its utfall on its page (`andringar`: lines
    such as "70 kvällar 2023 → 700 kvällar 2023"), by `user`. The rows have a history of their
    own, which no page shows: the åtgärd's history, in the admin and on the officers' page, is
    where a reader looks for who changed its figures."""
    if not andringar:
        return
    orsak = f"Utfall: {'; '.join(andringar)}"
    if len(orsak) > 100:  # the history table's column width
        orsak = orsak[:99] + "…"
    with transaction.atomic():
        spara_med_orsak(Atgard.objects.select_for_update().get(pk=atgard.pk), user, orsak, update_fields=["andrad"])
