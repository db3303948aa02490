"""How a change of formatting between two versions of a section is told in words to the chef."""

import pytest

from arenden import html
from arenden.html import formateringsandringar


@pytest.mark.parametrize(
    ("fore", "efter", "rader"),
    [
        ("<p>Polisen deltar.</p>", "<p><strong>Polisen</strong> deltar.</p>", ["”Polisen” – fetstil tillagd"]),
        ("<p><em>Polisen deltar.</em></p>", "<p>Polisen deltar.</p>", ["”Polisen deltar.” – kursiv stil borttagen"]),
        (
            "<ul><li>Trygghetsvandringar</li><li>Platsaktiveringar</li></ul>",
            "<ol><li>Trygghetsvandringar</li><li>Platsaktiveringar</li></ol>",
            ["”Trygghetsvandringar / Platsaktiveringar” – punktlista blev numrerad lista"],
        ),
        (
            "<p>Trygghetsvandringar</p><p>Platsaktiveringar</p>",
            "<ul><li>Trygghetsvandringar</li><li>Platsaktiveringar</li></ul>",
            ["”Trygghetsvandringar / Platsaktiveringar” – vanliga stycken blev punktlista"],
        ),
        (
            '<p>Polisen deltar.<span class="fotnot">Lokal samverkan.</span></p>',
            "<p>Polisen deltar.Lokal samverkan.</p>",
            ["”Lokal samverkan.” – inte längre fotnot"],
        ),
        # Punctuation is a word of its own: emphasis that stops before the full stop still aligns.
        ("<p>Polisen <em>deltar</em>.</p>", "<p>Polisen deltar.</p>", ["”deltar” – kursiv stil borttagen"]),
        (
            "<p><strong>Pol</strong>isen</p>",
            "<p><strong>Polis</strong>en</p>",
            ["”Polisen” – fetstil ändrad inom ordet"],
        ),
        (
            "<p>Polisen deltar.</p>",
            "<p>Polisen deltar <em>varje vecka</em>.</p><ul><li>Ny punkt</li></ul>",
            ["ny text i kursiv stil: ”varje vecka”", "ny text i punktlista: ”Ny punkt”"],
        ),
        # What the text shows already is not told twice: plain new text, and no change at all.
        ("<p>Polisen deltar.</p>", "<p>Polisen deltar varje vecka.</p>", []),
        ("<p><strong>Polisen</strong> deltar.</p>", "<p><strong>Polisen</strong>  deltar.</p>", []),
        ("<p>A &amp; B</p>", "<p>A &amp; B</p>", []),
    ],
)
def test_a_change_of_formatting_is_told_in_words(fore, efter, rader):
    assert formateringsandringar(fore, efter) == rader


def test_a_long_stretch_is_quoted_shortened():
    text = "Förvaltningen bedriver platssamverkan och platsaktivering i samtliga fyra centrumområden " * 3
    (rad,) = formateringsandringar(f"<p>{text}</p>", f"<p><strong>{text}</strong></p>")
    assert rad.startswith("”Förvaltningen bedriver platssamverkan") and rad.endswith("…” – fetstil tillagd")
    assert len(rad) < 120


def test_changed_lines_past_the_aligning_budget_are_told_as_new_text(monkeypatch):
    # Aligning word by word costs the product of the two runs' lengths: a rewritten section of a
    # megabyte would hold a chef's page for seconds. Past the budget, formatted text reads as new.
    fore = "<p>Polisen deltar i arbetet.</p>"
    efter = "<p><strong>Polisen</strong> deltar i arbetet varje vecka.</p>"
    assert formateringsandringar(fore, efter) == ["”Polisen” – fetstil tillagd"]
    monkeypatch.setattr(html, "ORD_JAMFORS_HOGST", 50)  # 8 tokens by 12
    assert formateringsandringar(fore, efter) == ["ny text i fetstil: ”Polisen”"]
