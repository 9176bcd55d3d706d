"""The docs' pictures of the web page (docs/serve-*.png), taken on the installed default models.

    .venv/bin/python bench/screenshots.py [--out docs]

Starts `lstmkit serve` with no RUN (each task's default installed model: `lstmkit models`), opens the
page in Chromium (LSTMKIT_CHROMIUM, else `chromium` on the PATH) and uses each panel as the browser
tests do, saving one picture per panel (the translation panel's only where a translator is installed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from lstmkit import catalogue

REVIEW = "A wonderful film, superb acting and a moving story"
SENTENCE = "Can you help me find my keys?"  # a sentence as short as Anki's, which it translates well
QUOTED = 'he said: "the will to truth is a will to power," and then he was silent for a long time.'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parents[1] / "docs"))
    args = parser.parse_args()
    chromium = os.environ.get("LSTMKIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("screenshots: no Chromium; set LSTMKIT_CHROMIUM or install Debian's chromium")
    server = subprocess.Popen([sys.executable, "-m", "lstmkit", "serve", "--port", "0"], stdout=subprocess.PIPE,
                              text=True)
    line = server.stdout.readline()
    if "serving" not in line:
        sys.exit(f"screenshots: lstmkit serve did not start: {line}")
    url = "http://" + line.split("http://", 1)[1].split()[0]
    out = Path(args.out)
    served = {model.task: model.name for model in catalogue.defaults()}
    char_model = served["textgen"]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(url)
            expect(page.locator("#models")).to_contain_text("Serving: ")

            def use(panel: str, fields: dict, done, picture: str) -> None:
                """Opens the panel's tab, fills its fields, sends its form, waits for `done`, takes the picture."""
                page.click(f"#tab-{panel}")
                for field, value in fields.items():
                    page.fill(field, value)
                page.click(f"#{'generate' if panel == 'textgen' else panel}-form button")
                done()
                page.screenshot(path=out / picture, full_page=True)

            use("sentiment", {"#sentiment-text": REVIEW},
                lambda: expect(page.locator("#sentiment-result .probability")).to_contain_text("probability 0."),
                "serve-1-sentiment.png")
            use("textgen", {"#generate-seed": "the will ", "#generate-length": "300"},
                lambda: page.wait_for_function(
                    "document.getElementById('generate-result').textContent.length >= 309"),
                "serve-2-generation.png")
            if "translate" in served:  # else the picture of the last translator served stays
                use("translate", {"#translate-text": SENTENCE},
                    lambda: expect(page.locator("#translate-result")).to_contain_text("German: "),
                    "serve-3-translation.png")
            page.click("#tab-inspect")
            page.select_option("#inspect-model", char_model)
            use("inspect", {"#inspect-text": QUOTED},
                lambda: expect(page.locator("#inspect-maps canvas")).to_have_count(4), "serve-4-inside-the-lstm.png")
            browser.close()
    finally:
        server.terminate()
        server.wait(60)
    print(f"saved the pictures of {', '.join(served.values())} in {out}")


if __name__ == "__main__":
    main()
