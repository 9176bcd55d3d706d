"""The page at / in a real browser: Debian's Chromium, headless, driven by Playwright, against a live
`lstmkit serve` of small real runs. Each panel is used as a person would (keyboard included); its
result appears; a screenshot of each is saved in test-artifacts/ (LSTMKIT_ARTIFACTS to move it)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

ARTIFACTS = Path(os.environ.get("LSTMKIT_ARTIFACTS", Path(__file__).parents[2] / "test-artifacts"))
CHROMIUM = os.environ.get("LSTMKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def serving(*runs):
    """A `lstmkit serve` of the runs on a free port -> (its process, its URL)."""
    process = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", *runs, "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    assert "serving" in line, process.stderr.read()
    return process, "http://" + line.split("http://", 1)[1].split()[0]


@pytest.fixture(scope="module")
def url(served_runs):
    process, address = serving(served_runs["sentiment"], served_runs["textgen"], served_runs["attention"])
    yield address
    process.terminate()
    assert process.wait(60) == 0


@pytest.fixture(scope="module")
def browser():
    assert CHROMIUM, "no Chromium: `make test` installs Debian's chromium as root; else apt-get install chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser, url):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(url)
    expect(page.locator("#models")).to_contain_text("Serving: sentiment (sentiment), textgen (textgen)")
    yield page
    page.close()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_the_page_opens_on_a_task_that_is_served_and_says_how_to_serve_the_others(browser, served_runs):
    process, address = serving(served_runs["textgen"])
    try:
        page = browser.new_page()
        page.goto(address)
        expect(page.locator("#tab-textgen")).to_have_attribute("aria-selected", "true")
        expect(page.locator("#textgen")).to_be_visible()
        expect(page.locator("select[data-task=sentiment] option")).to_have_text(
            "no sentiment model is served: start lstmkit serve with a sentiment run, or with no run for the "
            "installed models")
        page.close()
    finally:
        process.terminate()
        assert process.wait(60) == 0


def test_sentiment_panel_shows_the_probability_and_colours_each_word(page):
    page.fill("#sentiment-text", "A wonderful film, superb acting and a moving story")
    page.click("#sentiment-form button")
    expect(page.locator("#sentiment-result .probability")).to_contain_text("probability 0.")
    expect(page.locator("#sentiment-result .word")).to_have_count(9)
    screenshot(page, "1-sentiment")


def test_generation_panel_streams_text_and_is_used_by_keyboard(page):
    page.focus("#tab-sentiment")
    page.keyboard.press("ArrowRight")  # the tabs move with the arrow keys
    expect(page.locator("#textgen")).to_be_visible()
    page.fill("#generate-seed", "the will ")
    page.fill("#generate-length", "120")
    page.focus("#generate-length")
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('generate-result').textContent.length >= 'the will '.length + 120")
    expect(page.locator("#generate-error")).to_have_text("")
    screenshot(page, "2-generation")


def test_an_invalid_input_shows_the_apis_error_in_words(page):
    page.fill("#sentiment-text", "!!! ...")
    page.click("#sentiment-form button")
    expect(page.locator("#sentiment-error")).to_have_text(
        "Error: texts: text 1 to predict is empty (no words after removing punctuation)")
    expect(page.locator("#sentiment-result")).to_be_empty()


def test_translation_panel_draws_the_attention_matrix(page):
    page.click("#tab-translate")
    page.fill("#translate-text", "one two three")
    page.click("#translate-form button")
    expect(page.locator("#translate-result")).to_contain_text("German: ")
    expect(page.locator("#attention-figure")).to_be_visible()
    assert page.locator("#attention-map").evaluate("canvas => canvas.width") > 50
    screenshot(page, "3-translation")


def test_inside_the_lstm_panel_draws_gates_and_cell_state_and_finds_tracking_units(page):
    page.click("#tab-inspect")
    page.select_option("#inspect-model", "textgen")
    page.click("#inspect-form button")
    expect(page.locator("#inspect-maps canvas")).to_have_count(4)
    expect(page.locator("#inspect-tracking li")).to_have_count(3)
    expect(page.locator("#inspect-tracking li").first).to_contain_text('follows "inside quotes"')
    screenshot(page, "4-inside-the-lstm")
    page.fill("#inspect-units", "0, 999")
    page.click("#inspect-form button")
    expect(page.locator("#inspect-error")).to_have_text("Error: unit 999 does not exist: this layer has units 0 to 31")


@pytest.mark.parametrize("path, shown", [("", "#models"), ("docs", ".opblock-summary-path")])
def test_the_page_and_the_api_docs_work_without_the_network(browser, url, path, shown):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    elsewhere = []

    def only_the_server(route):
        if route.request.url.startswith((url, "data:")):
            return route.continue_()
        elsewhere.append(route.request.url)
        return route.abort()

    page.route("**/*", only_the_server)
    page.goto(url + path)
    expect(page.locator(shown).first).to_be_visible()
    if path == "docs":  # Swagger UI drew the API from /openapi.json
        expect(page.locator(shown, has_text="/v1/sentiment")).to_be_visible()
        screenshot(page, "5-api-docs")
    page.close()
    assert elsewhere == []
