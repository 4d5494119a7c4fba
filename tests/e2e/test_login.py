from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect


def test_demo_member_logs_in_with_the_demo_password(page):
    with override_settings(DEBUG=True):
        call_command("seed_demo")

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("member1@example.com")
    page.get_by_label("Password").fill("attune-demo")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("Welcome back, Maya.")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def test_wrong_password_is_explained_and_does_not_log_in(page):
    with override_settings(DEBUG=True):
        call_command("seed_demo")

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("member1@example.com")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_text("email address and/or password you specified are not correct")).to_be_visible()
    expect(page.get_by_role("button", name="Log out")).to_have_count(0)
