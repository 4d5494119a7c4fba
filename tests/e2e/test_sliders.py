"""Volume sliders are styled for every body: a thumb of at least 24 x 24 px, a track that stands
out from the page, and a visible focus ring, in the light and the low-light theme."""

import pytest
from playwright.sync_api import expect

from tests.e2e.test_accessibility import PASSWORD
from tests.personas import build_circle

MEASURE = """(slider) => {
  // Chromium does not compute styles for a slider's parts, so read their rules from the style sheets
  // and resolve the colours through an element that uses them.
  const rules = [...document.styleSheets].flatMap((sheet) => [...sheet.cssRules]);
  const rule = (selector) => rules.find((r) => r.selectorText === selector);
  const thumb = rule('input[type="range"]::-webkit-slider-thumb');
  const track = rule('input[type="range"]::-webkit-slider-runnable-track');
  const probe = document.createElement("div");
  probe.style.background = track.style.background;
  slider.after(probe);
  const colour = getComputedStyle(probe).backgroundColor;
  probe.remove();
  const style = getComputedStyle(slider);
  return {
    appearance: style.appearance,
    height: slider.getBoundingClientRect().height,
    thumb: [parseFloat(thumb.style.width), parseFloat(thumb.style.height)],
    track: colour,
    page: getComputedStyle(document.body).backgroundColor,
    outline: [style.outlineStyle, parseFloat(style.outlineWidth)],
  };
}"""


def luminance(rgb: str) -> float:
    parts = [int(float(p)) / 255 for p in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in parts]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("theme", ["light", "low-light"])
def test_the_volume_slider_has_a_large_thumb_a_visible_track_and_focus(browser, site, theme):
    circle = build_circle()
    context = browser.new_context(base_url=site.url, viewport={"width": 390, "height": 844})
    context.add_cookies([{"name": "theme", "value": theme, "url": site.url}])
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(circle.member.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("button", name="Log out")).to_be_visible()
        page.goto("/accounts/profile/")
        page.evaluate("theme => { document.documentElement.dataset.theme = theme; }", theme)
        slider = page.get_by_role("slider", name="Sound volume")
        slider.focus()
        page.keyboard.press("ArrowRight")  # a keyboard focus, so :focus-visible applies
        found = slider.evaluate(MEASURE)
        assert found["appearance"] == "none", found
        assert found["thumb"][0] >= 24 and found["thumb"][1] >= 24, found
        assert found["height"] >= 24, found
        assert contrast(found["track"], found["page"]) >= 3, found
        assert found["outline"][0] == "solid" and found["outline"][1] >= 2, found
    finally:
        context.close()
