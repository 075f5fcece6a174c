"""/owner in Chromium: the sign-in form, a wrong password said next to the field, the
signed-in page and sign-out, in English and Korean, and nothing axe-core objects to."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

PASSWORD = "a long owner password"


@pytest.fixture(scope="module")
def owner_server(tmp_path_factory):
    from tests.helpers import server_processes

    with server_processes() as start:
        yield start(tmp_path_factory.mktemp("owner-server"), {"OWNER_PASSWORD": PASSWORD})


def test_the_owner_signs_in_and_out(owner_server, people):
    person = people(owner_server.url)
    person.goto("/owner")
    assert person.axe() == []
    person.page.get_by_label("Password").fill("not it")
    person.page.get_by_role("button", name="Sign in").click()
    expect(person.page.locator("#password-error")).to_have_text("Wrong password.")
    expect(person.page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
    assert person.axe() == []
    person.page.get_by_label("Password").fill(PASSWORD)
    person.page.get_by_role("button", name="Sign in").click()
    expect(person.page.locator("main")).to_contain_text("You are signed in as host")
    assert person.axe() == []
    person.page.get_by_role("button", name="Sign out").click()
    expect(person.page.get_by_role("heading", name="Sign in as the owner")).to_be_visible()
    # The wrong password's page came with a 401, which Chromium reports; nothing else.
    assert [error for error in person.errors if "status of 401" not in error] == []
    assert person.violations() == []


def test_the_sign_in_page_speaks_korean(owner_server, people):
    person = people(owner_server.url, locale="ko-KR")
    person.goto("/owner")
    expect(person.page.get_by_role("heading", name="주인으로 로그인")).to_be_visible()
    person.page.get_by_label("비밀번호").fill("틀림")
    person.page.get_by_role("button", name="로그인").click()
    expect(person.page.locator("#password-error")).to_have_text("비밀번호가 틀렸습니다.")
    assert person.axe() == []


def test_without_a_password_the_page_does_not_exist(server, people):
    person = people(server.url)
    assert person.goto("/owner").status == 404
