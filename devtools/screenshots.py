"""Regenerates the README's screenshots of the page, on a desktop and on a phone:

    python -m devtools.screenshots [--out docs/screenshots]

It builds the embedded default model into a scratch folder (with the title, description and model
card the README shows), serves it, and opens it in headless Chromium whose fake camera plays
generated footage with signs; each screenshot is taken once the page has drawn boxes. Needs what
`make setup` installs (TensorFlow for the build's verification, Chromium, Playwright).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYOUTS = {"desktop": (1280, 800), "phone": (390, 844)}
DESCRIPTION = (
    "Finds **kangaroo** and **stop** signs. Point the camera at one, or drop a photo on the "
    "picture. Nothing leaves this device."
)
# Footage frames with at least this many signs make a screenshot worth showing.
MIN_BOXES = 2


def build_site(out: Path) -> None:
    from sitegen.build import BuildOptions, build
    from sitegen.resources import default_model_dir

    model = default_model_dir()
    build(
        BuildOptions(
            model=model,
            out=out,
            title="Road signs detector",
            description=DESCRIPTION,
            model_card=model / "MODEL_CARD.md",
        )
    )


def shoot(site: Path, footage: Path, out: Path) -> list[Path]:
    from sitegen.site import page as page_client
    from sitegen.site.browser import browser_path

    written = []
    with (
        page_client.served(site) as url,
        page_client.playwright_started() as playwright,
        page_client.launched(playwright, browser_path(playwright), camera=footage) as browser,
    ):
        for name, (width, height) in LAYOUTS.items():
            phone = name == "phone"
            page, _ = page_client.open_page(
                browser,
                page_client.page_url(url, autostart=True),
                viewport=(width, height),
                device_scale_factor=2 if phone else 1,
                is_mobile=phone,
                has_touch=phone,
            )
            wait_for_boxes(page)
            path = out / f"{name}.png"
            page.screenshot(path=str(path))
            written.append(path)
            page.context.close()
    return written


def wait_for_boxes(page, attempts: int = 600) -> None:
    """Until the overlay shows MIN_BOXES boxes and the FPS readout has a value (the page's CSP
    forbids wait_for_function)."""
    for _ in range(attempts):
        drawn = page.evaluate(
            "() => window.sitegen && document.getElementById('fps').textContent !== '–'"
            " ? window.sitegen.overlay().boxes.length : 0"
        )
        if drawn >= MIN_BOXES:
            # Freeze the frame with its boxes: the camera would move on between reading and shooting.
            page.evaluate("() => document.getElementById('video').pause()")
            return
        page.wait_for_timeout(100)
    raise SystemExit(f"the page drew fewer than {MIN_BOXES} boxes in {attempts / 10:.0f} s")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    from devtools.default_model import scenes

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        footage = scratch / "signs.y4m"
        scenes.write_footage(footage, seed=2024, frames=60)
        build_site(scratch / "site")
        for path in shoot(scratch / "site", footage, args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
