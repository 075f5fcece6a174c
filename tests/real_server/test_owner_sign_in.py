"""The owner's sign-in against a real `python app.py`: the password, the cookie's flags,
the per-address limit on tries, CSRF on every state-changing request that relies on
the cookie, Bearer for scripts, and sign-out."""
from __future__ import annotations

import pytest
import requests

from tests.clients import session_from

PASSWORD = "correct horse battery staple"


@pytest.fixture
def server(servers):
    return servers({"OWNER_PASSWORD": PASSWORD, "OWNER_SIGNIN_BURST": "3",
                    "OWNER_SIGNINS_PER_MINUTE": "1"})


def sign_in(url, password=PASSWORD, http=None):
    http = http or requests.Session()
    return http, http.post(url + "/owner/session", json={"password": password}, timeout=5)


def signed_in(url, http) -> bool:
    answer = http.get(url + "/owner/session", timeout=5)
    assert answer.status_code in (200, 401), answer.text
    return answer.status_code == 200


def test_the_right_password_signs_in_with_a_session_cookie(server):
    http, answer = sign_in(server.url)
    assert answer.status_code == 204
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on a laptop: a Secure cookie would never return
    me = http.get(server.url + "/owner/session", timeout=5).json()
    assert me["name"] == "host" and len(me["csrfToken"]) >= 32
    page = http.get(server.url + "/owner", timeout=5)
    assert "You are signed in as" in page.text and ">host<" in page.text
    assert me["csrfToken"] in page.text  # the page's forms carry it
    assert page.headers["X-Frame-Options"] == "DENY"  # no other site may frame it
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "no-store" in page.headers["Cache-Control"]


def test_a_wrong_password_is_refused_and_logged_without_the_password(server):
    http, answer = sign_in(server.url, "correct horse battery stapler")
    assert answer.status_code == 401
    assert answer.json()["code"] == "wrong_password"
    assert "Set-Cookie" not in answer.headers
    assert not signed_in(server.url, http)
    log = server.full_log()
    assert "wrong password from 127.0.0.1" in log
    assert "stapler" not in log


@pytest.mark.parametrize("body", [{}, {"password": ""}, {"password": 7}, [PASSWORD], "x"])
def test_a_body_without_a_password_gets_a_4xx_with_a_code(server, body):
    answer = requests.post(server.url + "/owner/session", json=body, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == "password_required"


def test_tries_are_limited_per_address(server):
    attacker = session_from("127.0.0.2")
    for _ in range(3):
        assert sign_in(server.url, "guess", attacker)[1].status_code == 401
    refused = sign_in(server.url, "guess", attacker)[1]
    assert refused.status_code == 429 and refused.json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) >= 1
    # Even the right password waits: the limit is on tries, not on wrong ones only.
    assert sign_in(server.url, PASSWORD, attacker)[1].status_code == 429
    # The owner, from another address, is not locked out by the attacker.
    assert sign_in(server.url)[1].status_code == 204


def test_the_cookie_is_secure_behind_a_tls_proxy(servers):
    server = servers({"OWNER_PASSWORD": PASSWORD, "TRUSTED_PROXIES": "1"})
    answer = requests.post(server.url + "/owner/session", json={"password": PASSWORD},
                           headers={"X-Forwarded-Proto": "https",
                                    "X-Forwarded-For": "203.0.113.9"}, timeout=5)
    assert answer.status_code == 204
    assert "Secure" in answer.headers["Set-Cookie"]


def test_sign_out_needs_the_csrf_token(server):
    http, _ = sign_in(server.url)
    token = http.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    for headers in ({}, {"X-CSRF-Token": "not-the-token"}, {"X-CSRF-Token": ""}):
        refused = http.delete(server.url + "/owner/session", headers=headers, timeout=5)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_invalid"
        assert signed_in(server.url, http)  # nothing changed
    done = http.delete(server.url + "/owner/session", headers={"X-CSRF-Token": token}, timeout=5)
    assert done.status_code == 204
    assert not signed_in(server.url, http)


def test_the_forms_sign_in_and_out(server):
    http = requests.Session()
    wrong = http.post(server.url + "/owner/session", data={"password": "nope"}, timeout=5,
                      allow_redirects=False)
    assert wrong.status_code == 401 and "Wrong password." in wrong.text
    right = http.post(server.url + "/owner/session", data={"password": PASSWORD}, timeout=5,
                      allow_redirects=False)
    assert right.status_code == 303 and right.headers["Location"].endswith("/owner")
    forged = http.post(server.url + "/owner/sign-out", data={}, timeout=5, allow_redirects=False)
    assert forged.status_code == 403 and signed_in(server.url, http)
    token = http.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    out = http.post(server.url + "/owner/sign-out", data={"csrf_token": token}, timeout=5,
                    allow_redirects=False)
    assert out.status_code == 303 and not signed_in(server.url, http)
    assert "Sign in as the owner" in http.get(server.url + "/owner", timeout=5).text


def test_bearer_needs_no_cookie_and_no_csrf_token(server):
    good = {"Authorization": f"Bearer {PASSWORD}"}
    assert requests.get(server.url + "/owner/session", headers=good, timeout=5).status_code == 200
    assert requests.delete(server.url + "/owner/session", headers=good,
                           timeout=5).status_code == 204
    bad = requests.get(server.url + "/owner/session",
                       headers={"Authorization": "Bearer guess"}, timeout=5)
    assert bad.status_code == 401 and bad.json()["code"] == "wrong_password"
    # A wrong Bearer beside a good cookie and token is still refused, and changes nothing.
    http, _ = sign_in(server.url)
    token = http.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    mixed = http.delete(server.url + "/owner/session", timeout=5, headers={
        "Authorization": "Bearer guess", "X-CSRF-Token": token})
    assert mixed.status_code == 401 and signed_in(server.url, http)


@pytest.mark.parametrize("method, path", [("GET", "/owner/session"), ("DELETE", "/owner/session"),
                                          ("POST", "/owner/sign-out")])
def test_owner_requests_without_the_cookie_are_refused(server, method, path):
    answer = requests.request(method, server.url + path, timeout=5)
    assert answer.status_code == 401 and answer.json()["code"] == "not_signed_in"


def test_without_a_password_there_is_no_owner(servers):
    server = servers()
    assert requests.get(server.url + "/owner", timeout=5).status_code == 404
    answer = requests.post(server.url + "/owner/session", json={"password": ""}, timeout=5)
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    bearer = requests.get(server.url + "/owner/session",
                          headers={"Authorization": "Bearer "}, timeout=5)
    assert bearer.status_code == 404


def test_signing_out_closes_the_connections_that_sign_in_opened(server, clients):
    """A tab left open after sign-out is not the host any more: its connection is
    closed, and connecting again without the session it is a visitor."""
    http, _ = sign_in(server.url)
    cookie = {"Cookie": "session=" + http.cookies["session"]}
    other_http, _ = sign_in(server.url)  # another browser, signed in on its own
    tab = clients(server.url, headers=cookie)
    tab.join("host", "porch")
    other_tab = clients(server.url, headers={"Cookie": "session=" + other_http.cookies["session"]})
    other_tab.join("host", "attic")
    visitor = clients(server.url)
    visitor.join("Vera", "porch")
    assert requests.get(server.url + "/host", timeout=5).json()["online"] is True

    token = http.get(server.url + "/owner/session", timeout=5).json()["csrfToken"]
    assert http.delete(server.url + "/owner/session", headers={"X-CSRF-Token": token},
                       timeout=5).status_code == 204
    assert tab.disconnected.wait(5), "the signed-out tab's connection stays open"
    assert not other_tab.disconnected.is_set()
    assert other_tab.call("sendMessage", "still the host in the attic")[0] is None

    again = clients(server.url)  # the tab reconnects: its cookie is gone
    error = again.call("join", {"name": "host", "room": "porch"})
    assert error[0] and error[1]["code"] == "name_reserved"
