"""Every form, fuzzed: random Unicode, huge strings, wrong types, missing fields and stray files,
sent to the officers' pages, the JSON endpoints the editor uses, both logins and the admin's add
and change pages of the main models. Whatever arrives, the answer is never a 5xx.

Each page is fetched as a user who may use it, its forms are read from the HTML, and each
example keeps, drops or replaces every field. FUZZ_EXAMPLES (default 30) bounds the examples
per form, so the whole file takes about a minute per database."""

import functools
import json
import os
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from arenden import services
from arenden.models import Arende, Avdelning, Forvaltning, Mall, Namnd, Sektion, Tjansteutlatande
from atgarder.models import Aktor, Atgard, Drogscen
from tests.arenden.meeting import sammantrade
from tests.factories import ArendeFactory, pdf_bytes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "30"))
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    # No shrinking: one request can take a second with a huge field, and a failure is reported
    # with the example that found it, which is enough to write the regression test from.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def fran_samma_lage(run):
    """Each example from the same state of the database: what one example saved (an attest, a
    new case, a failed login) is rolled back before the next, so that a failure replays as it
    was found."""

    @functools.wraps(run)
    def wrapper(*args, **kwargs):
        with transaction.atomic():
            try:
                return run(*args, **kwargs)
            finally:
                transaction.set_rollback(True)

    return wrapper


# --- What a hostile or broken client sends -------------------------------------------------------

# Any character a client can send, lone surrogates aside (they cannot be encoded as UTF-8 at all).
unicode_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
huge_text = st.builds(
    lambda piece, times: piece * times,
    st.sampled_from(["a", "å", "𝔄", "\u202e", "9", " ", "<p>", "\x00", "ä\u0301"]),
    st.integers(3_000, 20_000),
)
# fmt: off
odd_values = st.sampled_from(
    [
        "", " ", "0", "-1", "1.5", "1e309", "NaN", "Infinity", "9" * 40, "-9223372036854775809",
        "18446744073709551616", "0x1F", "true", "null", "[]", "{}", "2024-02-30", "0000-00-00", "9999-12-31",
        "2024-05-23T25:61", "\x00", "a\x00b", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --",
        "%s%s%n", "{{ 7*7 }}", "SKHLM 2024/0", "SKHLM 99999999999999999999/1", "\ufeff", "\r\n\t",
    ]
)
# fmt: on
numbers = st.one_of(st.integers(-(2**70), 2**70), st.floats(allow_nan=True, allow_infinity=True)).map(str)
scalar = st.one_of(unicode_text, huge_text, odd_values, numbers)
field_value = st.one_of(scalar, st.lists(scalar, min_size=2, max_size=3))

json_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    unicode_text,
    huge_text,
    odd_values,
)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(unicode_text, inner, max_size=4),
    max_leaves=10,
)

KEEP, DROP = object(), object()


def mutated(data, fields):
    """Keep (mostly), drop or replace each field; a file field may get random bytes or a real PDF."""
    out = {}
    for name, value, kind in fields:
        choice = data.draw(st.sampled_from([KEEP, KEEP, KEEP, DROP, "fuzz", "fuzz"]), label=f"{name}?")
        if choice is DROP:
            continue
        if choice is KEEP:
            if kind == "file":
                continue
            out.setdefault(name, []).append(value)
        elif kind == "file":
            content = data.draw(st.one_of(st.binary(max_size=3000), st.just(pdf_bytes())), label=name)
            out[name] = [SimpleUploadedFile(data.draw(st.sampled_from(["a.pdf", "b.txt", "å ä/ö.pdf"])), content)]
        else:
            out[name] = [data.draw(field_value, label=name)]
    # Sometimes a field nobody expects, too.
    if data.draw(st.booleans(), label="extra field"):
        out[data.draw(unicode_text.filter(bool), label="extra name")] = [data.draw(scalar, label="extra value")]
    return {name: values[0] if len(values) == 1 else values for name, values in out.items()}


# --- Reading the forms a page shows --------------------------------------------------------------


class Forms(HTMLParser):
    """The forms of a page: action, method and (name, value, kind) of each field."""

    def __init__(self):
        super().__init__()
        self.forms, self._select, self._textarea, self._options = [], None, None, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {
                    "action": a.get("action") or "",
                    "method": (a.get("method") or "get").lower(),
                    "enctype": a.get("enctype", ""),
                    "fields": [],
                }
            )
            return
        if not self.forms or not a.get("name"):
            if tag == "option" and self._select is not None:
                self._options.append((a.get("value", ""), "selected" in a))
            return
        fields = self.forms[-1]["fields"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                fields.append((a["name"], None, "unchecked"))
                return
            fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else ""), kind))
        elif tag == "select":
            self._select, self._options = a["name"], []
        elif tag == "textarea":
            self._textarea = [a["name"], ""]
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None and self.forms:
            chosen = [v for v, selected in self._options if selected] or [v for v, _ in self._options[:1]]
            for value in chosen:
                self.forms[-1]["fields"].append((self._select, value, "select"))
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self.forms:
            self.forms[-1]["fields"].append((self._textarea[0], self._textarea[1].lstrip("\n"), "textarea"))
            self._textarea = None


def forms_on(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    parser = Forms()
    parser.feed(response.content.decode())
    # Logging out would end the session the other examples need; it has no fields to fuzz.
    found = [f for f in parser.forms if "logga-ut" not in f["action"] and "/logout/" not in f["action"]]
    for form in found:
        form["url"] = urljoin(url, form["action"]) if form["action"] else url
        form["fields"] = [(n, v, "unchecked" if v is None else k) for n, v, k in form["fields"]]
    assert found, f"no form on {url}"
    return found


def send(client, form, data):
    fields = [(n, v, k) for n, v, k in form["fields"] if k != "unchecked"] + [
        (n, "on", "checkbox") for n, v, k in form["fields"] if k == "unchecked"
    ]
    payload = mutated(data, fields)
    if form["method"] == "get":
        payload = {k: v for k, v in payload.items() if not isinstance(v, SimpleUploadedFile)}
        return client.get(urlsplit(form["url"]).path, payload)
    return client.post(form["url"], payload)


def assert_no_server_error(response, where):
    assert response.status_code < 500, f"{where}: {response.status_code}"


# --- People and pages ----------------------------------------------------------------------------


def fuzz_forms_on(client, url):
    """Every form on the page at `url`, sent again and again with fuzzed fields."""
    forms = forms_on(client, url)

    @fuzz
    @given(st.data())
    @fran_samma_lage
    def run(data):
        form = data.draw(st.sampled_from(forms), label="form")
        assert_no_server_error(send(client, form, data), f"{form['method']} {form['url']}")

    run()


@pytest.fixture
def world(demo, client):
    """The demo, a draft of anette's, one sent for attest, and the demo's meeting."""
    User = get_user_model()
    anette = User.objects.get(username="anette")
    arende = ArendeFactory(handlaggare=anette, avdelning=demo.arende.avdelning, forvaltning=demo.arende.forvaltning)
    utkast = services.skapa_tjansteutlatande(arende=arende, mall=Mall.objects.get(), user=anette, titel="Utkast")
    arende2 = ArendeFactory(handlaggare=anette, avdelning=demo.arende.avdelning, forvaltning=demo.arende.forvaltning)
    skickat = services.skapa_tjansteutlatande(arende=arende2, mall=Mall.objects.get(), user=anette, titel="Skickat")
    Sektion.objects.filter(tjansteutlatande=skickat).update(text="<p>Text.</p>")
    services.skicka_for_attest(tjansteutlatande=skickat, user=anette)
    return {
        "anette": anette,
        "admin": User.objects.get(username="admin"),
        "chef": skickat.current_attesteringar.filter(attesterad__isnull=True).first().attestant,
        "sekr": User.objects.get(username="sekreterare"),
        "utkast": utkast,
        "skickat": skickat,
        "mote": sammantrade(),
        "demo": demo,
    }


def officer_pages(w):
    tu, arende = w["utkast"], w["utkast"].arende
    return [
        "/",
        "/arenden/nytt/",
        f"/arenden/{ArendeFactory(handlaggare=w['anette'], avdelning=arende.avdelning).pk}/",
        f"/tjansteutlatanden/{tu.pk}/redigera/",
        f"/tjansteutlatanden/{tu.pk}/attest/",
        f"/tjansteutlatanden/{w['skickat'].pk}/dra-tillbaka/",
    ]


OFFICER_PAGES = ["start", "registrera", "arende", "redigera", "skicka_for_attest", "dra_tillbaka"]


# (Not called "page": pytest-playwright's fixture of that name would pull the browser in.)
@pytest.mark.parametrize("page_index", range(len(OFFICER_PAGES)), ids=OFFICER_PAGES)
def test_officer_forms_never_answer_5xx(client, world, page_index):
    client.force_login(world["anette"])
    url = officer_pages(world)[page_index]
    fuzz_forms_on(client, url)


@pytest.mark.parametrize("path", ["/", "/sok/", "/atgarder/sok/", "/drogscener/"])
def test_query_parameters_never_answer_5xx(client, world, path):
    client.force_login(world["anette"])
    names = ["q", "status", "sida", "typ", "drogscen", "aktor", "page"]

    @fuzz
    @given(st.dictionaries(st.sampled_from(names) | unicode_text, field_value, max_size=5))
    @fran_samma_lage
    def run(params):
        assert_no_server_error(client.get(path, params), f"GET {path} {params!r}"[:300])

    run()


@pytest.mark.parametrize("login_url", ["/logga-in/", "/admin/login/"])
def test_logins_never_answer_5xx(client, db, login_url):
    get_user_model().objects.create_user("anna", password="Rätt-lösenord-2024", is_staff=True)
    forms = forms_on(client, login_url)

    @fuzz
    @given(st.data())
    @fran_samma_lage
    def run(data):
        # Throttling answers 429 after five failures (within one example); that is a refusal,
        # not a server error.
        assert_no_server_error(send(client, forms[0], data), login_url)

    run()


def test_section_save_endpoint_never_answers_5xx(client, world):
    client.force_login(world["anette"])
    tu = world["utkast"]
    sektioner = list(Sektion.objects.filter(tjansteutlatande=tu))
    body = st.one_of(
        st.fixed_dictionaries(
            {"text": json_value | unicode_text | huge_text, "version": json_value | st.integers()},
            optional={"avslutning": json_value},
        ),
        json_value,
        st.binary(max_size=200),
    )

    @fuzz
    @given(st.sampled_from(sektioner), body)
    @fran_samma_lage
    def run(sektion, payload):
        raw = payload if isinstance(payload, bytes) else json.dumps(payload)
        url = f"/tjansteutlatanden/{tu.pk}/sektioner/{sektion.pk}/"
        assert_no_server_error(client.post(url, raw, content_type="application/json"), url)

    run()


def test_measure_endpoints_never_answer_5xx(client, world):
    client.force_login(world["anette"])
    tu = world["utkast"]
    ids = st.one_of(st.sampled_from(list(Atgard.objects.values_list("pk", flat=True))), st.integers(-(2**70), 2**70))
    body = st.one_of(
        st.fixed_dictionaries({"lagg_till": ids}),
        st.fixed_dictionaries({"ta_bort": ids}),
        st.fixed_dictionaries({"ordning": st.lists(ids, max_size=5)}),
        json_value,
    )
    ny = {
        "typ": ["social", "situationell", "x"],
        "titel": [],
        "beskrivning": [],
        "aktorer": [str(a) for a in Aktor.objects.values_list("pk", flat=True)],
        "drogscener": [str(d) for d in Drogscen.objects.values_list("pk", flat=True)],
        "period_start": [],
        "period_slut": [],
    }

    @fuzz
    @given(body, st.data())
    @fran_samma_lage
    def run(payload, data):
        url = f"/tjansteutlatanden/{tu.pk}/atgarder/"
        assert_no_server_error(client.post(url, json.dumps(payload), content_type="application/json"), url)
        fields = [(name, values[0] if values else "", "select" if values else "text") for name, values in ny.items()]
        ny_url = f"/tjansteutlatanden/{tu.pk}/atgarder/ny/"
        assert_no_server_error(client.post(ny_url, mutated(data, fields)), ny_url)

    run()


def admin_pages(w):
    demo, utkast, mote = w["demo"], w["utkast"], w["mote"]
    return {
        "arende-add": ("admin", "/admin/arenden/arende/add/"),
        "arende-change": ("admin", f"/admin/arenden/arende/{demo.arende.pk}/change/"),
        "arende-lista": ("admin", "/admin/arenden/arende/"),
        "skrivelse-add": ("admin", "/admin/arenden/skrivelse/add/"),
        "skrivelse-change": ("admin", f"/admin/arenden/skrivelse/{demo.arende.skrivelser.first().pk}/change/"),
        "tjansteutlatande-change": ("admin", f"/admin/arenden/tjansteutlatande/{utkast.pk}/change/"),
        "tjansteutlatande-lista": ("admin", "/admin/arenden/tjansteutlatande/"),
        "skicka": ("anette", f"/admin/arenden/tjansteutlatande/{utkast.pk}/skicka/"),
        "attestera": ("chef", f"/admin/arenden/tjansteutlatande/{w['skickat'].pk}/attestera/"),
        "aterremittera": ("chef", f"/admin/arenden/tjansteutlatande/{w['skickat'].pk}/aterremittera/"),
        "mall-add": ("admin", "/admin/arenden/mall/add/"),
        "mall-change": ("admin", f"/admin/arenden/mall/{Mall.objects.get().pk}/change/"),
        "sammantrade-add": ("admin", "/admin/arenden/sammantrade/add/"),
        "sammantrade-change": ("sekr", f"/admin/arenden/sammantrade/{mote.pk}/change/"),
        "atgard-add": ("admin", "/admin/atgarder/atgard/add/"),
        "atgard-change": ("admin", f"/admin/atgarder/atgard/{Atgard.objects.first().pk}/change/"),
        "drogscen-add": ("admin", "/admin/atgarder/drogscen/add/"),
        "drogscen-change": ("anette", f"/admin/atgarder/drogscen/{Drogscen.objects.first().pk}/change/"),
        "aktor-add": ("admin", "/admin/atgarder/aktor/add/"),
        "aktor-change": ("anette", f"/admin/atgarder/aktor/{Aktor.objects.first().pk}/change/"),
        "user-add": ("admin", "/admin/auth/user/add/"),
        "user-change": ("admin", f"/admin/auth/user/{w['anette'].pk}/change/"),
        "namnd-change": ("admin", f"/admin/arenden/namnd/{Namnd.objects.first().pk}/change/"),
        "forvaltning-change": ("admin", f"/admin/arenden/forvaltning/{Forvaltning.objects.first().pk}/change/"),
        "avdelning-change": ("admin", f"/admin/arenden/avdelning/{Avdelning.objects.first().pk}/change/"),
    }


ADMIN_PAGES = [
    "arende-add",
    "arende-change",
    "arende-lista",
    "skrivelse-add",
    "skrivelse-change",
    "tjansteutlatande-change",
    "tjansteutlatande-lista",
    "skicka",
    "attestera",
    "aterremittera",
    "mall-add",
    "mall-change",
    "sammantrade-add",
    "sammantrade-change",
    "atgard-add",
    "atgard-change",
    "drogscen-add",
    "drogscen-change",
    "aktor-add",
    "aktor-change",
    "user-add",
    "user-change",
    "namnd-change",
    "forvaltning-change",
    "avdelning-change",
]


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_forms_never_answer_5xx(client, world, name):
    who, url = admin_pages(world)[name]
    client.force_login(world[who])
    fuzz_forms_on(client, url)


def test_world_has_what_the_fuzzing_needs(world):
    # The pages above are only worth fuzzing if the states they need are there.
    assert world["utkast"].status == "utkast"
    assert Tjansteutlatande.objects.get(pk=world["skickat"].pk).status == "till_attest"
    assert Arende.objects.count() >= 3
