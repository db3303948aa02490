"""State changes of the measure register. The admin edits åtgärder through its forms; the
officers' editor creates them through `skapa_atgard`, so that a new åtgärd has its history
(who, when, why) from its first row."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from .models import Atgard


def skapa_atgard(*, user, typ, titel, beskrivning, aktorer=(), drogscener=(), period_start=None, period_slut=None):
    """Create an åtgärd with its aktörer and drogscener; validation errors are Swedish. The
    register is shared by every förvaltning: only a role that may add to it does (not a chef,
    a secretary or a registrator)."""
    if not user.has_perm("atgarder.add_atgard"):
        raise PermissionDenied("Du har inte behörighet att lägga till åtgärder i registret.")
    atgard = Atgard(typ=typ, titel=titel, beskrivning=beskrivning, period_start=period_start, period_slut=period_slut)
    atgard.full_clean()
    with transaction.atomic():
        atgard._history_user = user
        atgard._change_reason = "Skapad i tjänsteutlåtandets editor"
        atgard.save()
        # The m2m history rows (m2m_fields) are written by these set() calls.
        atgard.aktorer.set(aktorer)
        atgard.drogscener.set(drogscener)
    return atgard
