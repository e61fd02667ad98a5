"""TF.js WASM's time per frame in built sites' own pages: the page's detector (window.sitegen
timeDetector) on the verification scene, 30 runs after the first image, three page loads a site;
the readout says how many threads TF.js runs with.

    .venv/bin/python -m benchmarks.tfjs_threads SITE [SITE ...]
"""

import argparse
import statistics
from pathlib import Path

from sitegen.resources import verify_image
from sitegen.site import page
from sitegen.site.browser import find_browser, playwright_started

RUNS, SKIP, LOADS = 30, 5, 3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.tfjs_threads", description=__doc__)
    parser.add_argument("sites", nargs="+", type=Path, help="built site folders")
    args = parser.parse_args(argv)
    with playwright_started() as playwright, page.launched(playwright, find_browser()) as browser:
        for site in args.sites:
            with page.served(site) as url:
                for _ in range(LOADS):
                    print(f"{site}: {_one_load(browser, url)}", flush=True)


def _one_load(browser, url: str) -> str:
    address = page.page_url(url, backend="wasm", tune="off")
    tab, _ = page.open_page(browser, address, permissions=())
    try:
        if page.wait_ready(tab) != "wasm":
            return "TF.js WASM did not start"
        page.detect_image(tab, verify_image())
        times = page.time_detector(tab, RUNS)[SKIP:]
        readout = tab.inner_text("#backend")
        return f"{readout}: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms"
    finally:
        tab.context.close()


if __name__ == "__main__":
    main()
