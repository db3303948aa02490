"""What officers write is stored as a small, safe subset of HTML.

Sanitising is done by nh3 (the Ammonia sanitiser), on the server, before anything is stored:
whatever an editor or a hand-made request sends, only these elements survive.
"""

import difflib
import html
import re
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "strong", "em", "span"}
# A footnote is written inline where its marker goes: <span class="fotnot">text</span>.
# The PDF moves its text to the foot of the page and numbers it.
ALLOWED_ATTRIBUTES = {}  # only the class below; ammonia takes classes through allowed_classes
ALLOWED_CLASSES = {"span": {"fotnot"}}


def sanitize_html(value):
    """Return the allowed subset of `value`; scripts, event handlers, links and styles are dropped."""
    cleaned = nh3.clean(
        value or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        clean_content_tags={"script", "style"},
        url_schemes=set(),
        link_rel=None,
    )
    return cleaned.strip()


def html_to_text(value):
    """Plain text of stored HTML, for search and comparisons."""
    text = re.sub(r"<(br|/p|/li)\s*/?>", "\n", value or "")
    return html.unescape(re.sub(r"<[^>]+>", "", text)).strip()


# How a stretch of text is formatted, in the words a reader of the document uses. A paste's
# heading is stored as a bold line (the editor keeps no headings), so it is told as bold.
LISTOR = {"ul": "punktlista", "ol": "numrerad lista"}
INLINE = {"strong": "fetstil", "em": "kursiv stil", "fotnot": "fotnot"}
_ORDNING = [*LISTOR.values(), *INLINE.values()]
_TILLAGD = {"fetstil": "fetstil tillagd", "kursiv stil": "kursiv stil tillagd", "fotnot": "flyttad till fotnot"}
_BORTTAGEN = {"fetstil": "fetstil borttagen", "kursiv stil": "kursiv stil borttagen", "fotnot": "inte längre fotnot"}
_UTDRAG = 80  # characters of a changed stretch that are quoted
# How much aligning word by word one comparison may do (`formateringsandringar`), as the product
# of the tokens of the changed runs it aligns, summed: its cost grows with that product, and a page
# must answer as fast for a rewritten section of a megabyte as for a paragraph.
ORD_JAMFORS_HOGST = 1_000_000


class _Formatering(HTMLParser):
    """Stored HTML as parts of its text, each with its formatting (a frozenset of the names
    above), and a line end after each paragraph, list item and line break. Only the sanitised
    subset is expected; any other tag counts for nothing."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.delar = []  # (text, its formatting)
        self.inline = []  # the open inline formats, innermost last; None for a plain span
        self.listor = []

    def _lagg_till(self, text, format_):
        self.delar.append((text, format_))

    def handle_starttag(self, tag, attrs):
        if tag in LISTOR:
            self.listor.append(LISTOR[tag])
        elif tag in ("strong", "em"):
            self.inline.append(INLINE[tag])
        elif tag == "span":
            fotnot = "fotnot" in (dict(attrs).get("class") or "").split()
            self.inline.append(INLINE["fotnot"] if fotnot else None)
        elif tag == "br":
            self._lagg_till("\n", frozenset())

    def handle_endtag(self, tag):
        if tag in LISTOR and self.listor:
            self.listor.pop()
        elif tag in ("strong", "em", "span") and self.inline:
            self.inline.pop()
        elif tag in ("p", "li"):
            self._lagg_till("\n", frozenset())

    def handle_data(self, data):
        format_ = {f for f in self.inline if f}
        if self.listor:
            format_.add(self.listor[-1])
        # A line break in the markup's text is a space on the page, as in the browser.
        self._lagg_till(re.sub(r"\s", " ", data), frozenset(format_))


def formaterade_ord(value):
    """The text of stored HTML as (token, formatting, within) triples, for comparing two versions'
    formatting: words, punctuation, spaces (as one " ") and line ends, cut from the text alone so
    that the same words align whatever their markup. `formatting` is what the token's characters
    carry, and `within` each character's, when they differ (a word only partly bold)."""
    parser = _Formatering()
    parser.feed(value or "")
    parser.close()
    # Where each part starts in the text, to find the parts a token spans walking both in order.
    starter, position = [], 0
    for text, _ in parser.delar:
        starter.append(position)
        position += len(text)
    text = "".join(t for t, _ in parser.delar)
    tokens, d = [], 0
    for m in re.finditer(r"\n|[^\S\n]+|\w+|[^\w\s]", text):
        if m.group().isspace():
            tokens.append(("\n" if m.group() == "\n" else " ", frozenset(), None))
            continue
        while starter[d] + len(parser.delar[d][0]) <= m.start():
            d += 1
        if m.end() <= starter[d] + len(parser.delar[d][0]):  # within one part, as nearly every token is
            tokens.append((m.group(), parser.delar[d][1], None))
            continue
        tecken, e = [], d
        for position in range(m.start(), m.end()):
            while starter[e] + len(parser.delar[e][0]) <= position:
                e += 1
            tecken.append(parser.delar[e][1])
        inom = tuple(tecken) if len(set(tecken)) > 1 else None
        tokens.append((m.group(), frozenset().union(*tecken), inom))
    return tokens


def _utdrag(tokens):
    text = "".join(t[0] for t in tokens).strip()
    text = re.sub(r"\s*\n\s*", " / ", text)
    return text if len(text) <= _UTDRAG else text[: _UTDRAG - 1].rstrip() + "…"


def _strackor(tokens, nyckel):
    """Consecutive tokens with the same `nyckel(i)` (not None), allowing spaces and line ends
    between them: each stretch as (key, the tokens from its first to its last)."""
    strackor, aktuell = [], None
    for i, (token, *_) in enumerate(tokens):
        k = nyckel(i)
        if k is None:
            if token.strip():
                aktuell = None
        elif aktuell is not None and aktuell[0] == k:
            aktuell[2] = i
        else:
            aktuell = [k, i, i]
            strackor.append(aktuell)
    return [(k, tokens[forsta : sista + 1]) for k, forsta, sista in strackor]


def _namn(format_):
    return [n for n in _ORDNING if n in format_]


def _andring(fore, efter):
    """How token `efter` is formatted otherwise than `fore`, in words: "punktlista blev vanliga
    stycken, fetstil tillagd"."""
    borttagen, tillagd = fore[1] - efter[1], efter[1] - fore[1]
    fraser = []
    listor = set(LISTOR.values())
    fran, till = _namn(borttagen & listor), _namn(tillagd & listor)
    if fran or till:
        fraser.append(f"{fran[0] if fran else 'vanliga stycken'} blev {till[0] if till else 'vanliga stycken'}")
    fraser += [_TILLAGD[n] for n in _namn(tillagd) if n in _TILLAGD]
    fraser += [_BORTTAGEN[n] for n in _namn(borttagen) if n in _BORTTAGEN]
    if not fraser:  # the same formats, on other characters of the word
        inom = [
            n
            for n in _namn(efter[1])
            if [n in f for f in fore[2] or [fore[1]] * len(fore[0])]
            != [n in f for f in efter[2] or [efter[1]] * len(efter[0])]
        ]
        fraser.append(f"{', '.join(inom)} ändrad inom ordet")
    return ", ".join(fraser)


def _linjer(tokens):
    """The (start, end) of each line of `tokens`, its line end left out."""
    linjer, start = [], 0
    for i, (token, *_) in enumerate(tokens):
        if token == "\n":
            linjer.append((start, i))
            start = i + 1
    if start < len(tokens):
        linjer.append((start, len(tokens)))
    return linjer


def formateringsandringar(fore, efter):
    """How the formatting of stored HTML `efter` differs from `fore`, in Swedish, one line a
    stretch of text: text in both versions whose formatting changed ("”Polisen” – fetstil
    tillagd"), and new text that carries formatting ("ny text i punktlista: ”…”"), which a
    comparison of the words alone does not show.

    Aligned as difflib's ndiff aligns: lines first, then the words of lines that changed, within
    `ORD_JAMFORS_HOGST`; changed lines past it are not aligned word by word, and their formatted
    text is told as new."""
    if fore == efter:
        return []
    a, b = formaterade_ord(fore), formaterade_ord(efter)
    if a == b:
        return []
    andrade, nya = {}, {}  # index in b: the change in words, or the formats of new text

    def jamfor(a0, a1, b0, b1):
        for i, j in zip(range(a0, a1), range(b0, b1), strict=True):
            if a[i][1:] != b[j][1:]:
                andrade[j] = _andring(a[i], b[j])

    def ny(b0, b1):
        for j in range(b0, b1):
            if b[j][1]:
                nya[j] = ", ".join(_namn(b[j][1]))

    kvar = ORD_JAMFORS_HOGST
    la, lb = _linjer(a), _linjer(b)
    linjer = difflib.SequenceMatcher(
        None, [tuple(t[0] for t in a[s:e]) for s, e in la], [tuple(t[0] for t in b[s:e]) for s, e in lb], autojunk=False
    )
    for op, a0, a1, b0, b1 in linjer.get_opcodes():
        if op == "equal":
            for (as_, ae), (bs, be) in zip(la[a0:a1], lb[b0:b1], strict=True):
                jamfor(as_, ae, bs, be)
        elif op == "insert":
            ny(lb[b0][0], lb[b1 - 1][1])
        elif op == "replace":
            (as_, ae), (bs, be) = (la[a0][0], la[a1 - 1][1]), (lb[b0][0], lb[b1 - 1][1])
            if (ae - as_) * (be - bs) > kvar:
                ny(bs, be)
                continue
            kvar -= (ae - as_) * (be - bs)
            ord_ = difflib.SequenceMatcher(None, [t[0] for t in a[as_:ae]], [t[0] for t in b[bs:be]], autojunk=False)
            for op2, i0, i1, j0, j1 in ord_.get_opcodes():
                if op2 == "equal":
                    jamfor(as_ + i0, as_ + i1, bs + j0, bs + j1)
                elif op2 in ("insert", "replace"):
                    ny(bs + j0, bs + j1)
    rader = [f"”{_utdrag(tokens)}” – {andring}" for andring, tokens in _strackor(b, andrade.get)]
    rader += [f"ny text i {format_}: ”{_utdrag(tokens)}”" for format_, tokens in _strackor(b, nya.get)]
    return rader
