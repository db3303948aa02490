"""What officers write is stored as a small, safe subset of HTML.

Sanitising is done by nh3 (the Ammonia sanitiser), on the server, before anything is stored:
whatever an editor or a hand-made request sends, only these elements survive.
"""

import html
import re

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
