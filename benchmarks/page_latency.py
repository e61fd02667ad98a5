"""Per-frame latency of a built page in headless Chromium, against native TensorFlow.

For one SavedModel it builds the site twice -- with the graph cut at the raw outputs and JS
post-processing ("raw", what sitegen does by default) and with the model's own in-graph
post-processing ("graph", what a plain tensorflowjs_converter export runs) -- drives each with
Chromium's fake camera on each backend, and prints median and p95 of the page's own inferenceMs
(model run + post-processing, as reported in the sitegen:detections event), next to native
TensorFlow on a 640x480 frame. Run from the repository root:

    .venv/bin/python benchmarks/page_latency.py ../shared/fixtures/odapi-ssd-mobilenet-v2
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from sitegen.build import BuildOptions, build
from sitegen.serve import serve_in_thread
from sitegen.verify import find_browser

ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]


def page_latency(site: Path, backend: str, frames: int, browser_path: str) -> list[float]:
    from playwright.sync_api import sync_playwright

    server, url = serve_in_thread(site)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=browser_path, args=ARGS)
            page = browser.new_page()
            page.goto(f"{url}?autostart=1&backend={backend}")
            page.evaluate(
                "() => { window.__ms = []; addEventListener('sitegen:detections', "
                "(e) => window.__ms.push(e.detail.inferenceMs)); }"
            )
            deadline = time.monotonic() + 600
            # The first frames include shader compilation and warm-up; skip 5.
            while page.evaluate("window.__ms.length") < frames + 5:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            timings = page.evaluate("window.__ms")[5:]
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return timings


def native_latency(saved_model: Path, frames: int) -> list[float]:
    import tensorflow as tf

    function = tf.saved_model.load(str(saved_model)).signatures["serving_default"]
    (key,) = function.structured_input_signature[1].keys()
    frame = tf.constant(np.random.default_rng(0).integers(0, 255, (1, 480, 640, 3), np.uint8))
    function(**{key: frame})
    timings = []
    for _ in range(frames):
        start = time.perf_counter()
        function(**{key: frame})
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def summary(timings: list[float]) -> str:
    if not timings:
        return "no frames"
    p95 = float(np.percentile(timings, 95))
    return f"median {statistics.median(timings):8.1f} ms   p95 {p95:8.1f} ms   (n={len(timings)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, help="OD API export folder (with saved_model/)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--backends", default="wasm,cpu")
    args = parser.parse_args()
    browser_path = find_browser()
    if browser_path is None:
        raise SystemExit("no Chromium found: apt-get install chromium")
    saved_model = (
        args.model / "saved_model" if (args.model / "saved_model").is_dir() else args.model
    )
    rows = [("native TensorFlow", summary(native_latency(saved_model, args.frames)))]
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("raw", "graph"):
            site = Path(tmp) / mode
            build(BuildOptions(model=args.model, out=site, postprocess=mode))
            for backend in args.backends.split(","):
                timings = page_latency(site, backend, args.frames, browser_path)
                rows.append((f"page, {mode} outputs, {backend}", summary(timings)))
    width = max(len(name) for name, _ in rows)
    for name, text in rows:
        print(f"{name:<{width}}  {text}")


if __name__ == "__main__":
    main()
