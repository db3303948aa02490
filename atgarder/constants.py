from django.db import models


class AtgardTyp(models.TextChoices):
    SOCIAL = "social", "Social prevention"
    SITUATIONELL = "situationell", "Situationell prevention"


# The definitions the tjänsteutlåtande prints as footnotes under each group of åtgärder.
DEFINITIONER = {
    AtgardTyp.SOCIAL: (
        "Social prevention, inriktar på att reducera benägenheten att begå brott hos individen "
        "och fokuserar på de bakomliggande orsakerna till varför individer begår brott"
    ),
    AtgardTyp.SITUATIONELL: (
        "Situationellt brottsförebyggande arbete handlar om att förhindra eller försvåra att "
        "brott begås genom att förändra den aktuella platsen eller situationen där brott kan begås"
    ),
}

# The line that opens each group of åtgärder in the document; the footnote marker follows the term.
# Printed as "Inom social prevention¹ sker arbete på flera olika sätt:".
GRUPPINLEDNING = {
    AtgardTyp.SOCIAL: ("Inom social prevention", " sker arbete på flera olika sätt:"),
    AtgardTyp.SITUATIONELL: ("Inom situationell prevention", " sker arbete på flera olika sätt:"),
}
