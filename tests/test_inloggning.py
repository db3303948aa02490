"""The officers' login page: every refusal is told in Swedish, and none tells whether a user
name exists."""

import html

import pytest

from tests.factories import UserFactory


@pytest.mark.parametrize(
    ("username", "password"),
    [("", ""), ("anette", ""), ("", "skarholmen-demo"), ("anette", "lösen\x00ord")],
    ids=["tomt", "utan-lösenord", "utan-användarnamn", "nul-i-lösenordet"],
)
def test_a_login_form_sent_incomplete_says_what_is_missing(client, db, username, password):
    UserFactory(username="anette")
    response = client.post("/logga-in/", {"username": username, "password": password})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    sida = html.unescape(response.content.decode())
    # The page came back without a word: the fields' own errors were never shown.
    assert 'role="alert"' in sida
    if not username:
        assert "Ange ditt användarnamn." in sida
    if not password:
        assert "Ange ditt lösenord." in sida
    # What was typed as user name stays in the field.
    assert f'value="{username}"' in sida


@pytest.mark.parametrize("nasta", ["/logga-in/", "/logga-in/?next=/"])
def test_a_signed_in_user_sent_to_the_login_page_with_itself_as_next_lands_on_the_start_page(client, db, nasta):
    client.force_login(UserFactory())
    response = client.get("/logga-in/", {"next": nasta}, follow=False)
    # Django refused this with a server error ("Redirection loop for authenticated user").
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_logout_address_opened_with_get_asks_first_in_swedish(client, db):
    # An old bookmark or a typed address: Django's logout answered GET with an empty 405 page.
    anvandare = UserFactory(username="anette", first_name="Anette", last_name="Ek")
    client.force_login(anvandare)
    response = client.get("/logga-ut/")
    assert response.status_code == 200
    sida = html.unescape(response.content.decode())
    assert "Du är inloggad som Anette Ek. Vill du logga ut?" in sida
    assert '<form class="logga-ut-sida" method="post" action="/logga-ut/">' in sida
    assert "_auth_user_id" in client.session  # asking logs no one out
    assert client.post("/logga-ut/").status_code == 302
    assert "_auth_user_id" not in client.session
    # Logged out, the address leads to the login page.
    response = client.get("/logga-ut/")
    assert response.status_code == 302 and response["Location"] == "/logga-in/"


def test_the_login_page_after_logging_out_says_the_officer_is_logged_out(client, db):
    # On a shared computer the next person must see that the last one is gone; the login page
    # after the button looked the same as one reached by an ended session.
    client.force_login(UserFactory(username="anette"))
    response = client.post("/logga-ut/", follow=True)
    assert response.redirect_chain == [("/logga-in/", 302)]
    assert "_auth_user_id" not in client.session
    sida = html.unescape(response.content.decode())
    # Spoken once the page has loaded: an empty polite region that static/js/meddelanden.js
    # moves the text into (templates/_meddelande.html).
    assert (
        '<p class="meddelande meddelande-success"><span data-meddelande-region role="status" aria-live="polite">'
        "</span><span>Du är utloggad.</span>"
    ) in sida
    # Told once: the next visit to the login page is a plain one.
    assert "Du är utloggad." not in client.get("/logga-in/").content.decode()
