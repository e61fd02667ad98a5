"""``--verify``: the staged site's page run per backend in headless Chromium against TensorFlow
(``sitegen.site.verify``), the verdicts and timings written into its config."""

from __future__ import annotations

from pathlib import Path

from sitegen.build.options import BuildOptions
from sitegen.build.staged import write_generated
from sitegen.contract import LITERT_FULL_INTEGER, ModelSpec, SiteConfig
from sitegen.errors import ConversionError
from sitegen.model.families import family_for
from sitegen.model.source import ModelSource
from sitegen.progress import note, stage


def verified_config(
    staging: Path,
    source: ModelSource,
    config: SiteConfig,
    options: BuildOptions,
    twin: Path | None = None,
) -> SiteConfig:
    """``config`` with each backend's verdict and timing, written into the staged site; as it is
    when there is no TensorFlow reference or no Chromium (a note says so)."""
    from sitegen.contract import LITERT_BACKENDS
    from sitegen.site import browser, verify

    reference_model = _reference_saved_model(source, config.model)
    if reference_model is None:
        note("Backend verification skipped: a TF.js model input has no TensorFlow reference")
        return config
    browser_path = browser.find_browser()
    if browser_path is None:
        note("Backend verification skipped: no Chromium found (apt-get install chromium)")
        return config
    image = options.verify_image or verify.sample_image()
    backends = verify.backends_to_verify(config.model.backends)
    int8 = LITERT_BACKENDS if _full_integer(config) else ()
    float_result = None
    with stage("Verifying each backend in headless Chromium against TensorFlow"):
        function = verify.reference_for(reference_model, config.model)
        results = _check_backends(staging, source, config, function, image, browser_path, backends)
        if twin is not None:
            (float_result,) = verify.check_site(
                twin, function, image, browser_path, ("litert-wasm",)
            )
    wasm = next((r for r in results if r.backend == "litert-wasm"), None)
    if int8 and wasm is not None and wasm.agrees is False:
        # Headless Chromium has no WebGPU to check litert-webgpu on; it runs the same int8 file.
        detail = "not run here; it runs the same int8 .tflite that disagreed on litert-wasm"
        results.append(verify.BackendResult("litert-webgpu", False, detail))
    for line in verify.summary_lines(results, config.model.backends):
        note(line)
    _refuse_if_none_agrees(results, options)
    if float_result is not None:
        for line in _speed_lines(results, float_result):
            note(line)
    config = verify.with_results(config, results)
    write_generated(staging, config)
    return config


def _refuse_if_none_agrees(results, options: BuildOptions) -> None:
    """A site whose page has no backend that runs the model and agrees with TensorFlow would
    stop in its error state for every visitor: the build fails (nothing is written) and names
    each backend's reason, unless --allow-unverified asks for it anyway."""
    if not results or any(result.agrees for result in results):
        return
    by_reason: dict[str, list[str]] = {}
    for result in results:  # backends of one runtime often fail alike: each reason once
        by_reason.setdefault(_verdict(result), []).append(result.backend)
    reasons = "; ".join(f"{', '.join(names)} {why}" for why, names in by_reason.items())
    problem = f"no backend runs this model and agrees with TensorFlow ({reasons})"
    if options.allow_unverified:
        note(
            f"WARNING: {problem}. --allow-unverified built it anyway: its page will refuse to start"
        )
        return
    raise ConversionError(
        f"{problem}; nothing was written to {options.out} (--allow-unverified builds it anyway)"
    )


def _verdict(result) -> str:
    if result.agrees is False:
        return f"DISAGREES: {result.detail}"
    return result.detail


def _full_integer(config: SiteConfig) -> bool:
    """Whether the site's .tflite is full-integer, which the build checks more loosely."""
    litert = config.model.litert
    return litert is not None and litert.quantization == LITERT_FULL_INTEGER


def _check_backends(staging, source, config, function, image, browser_path, backends):
    """Each backend's verdict against ``function``; a user's .tflite (a YOLO export's) is checked
    on the LiteRT.js backends against TensorFlow Lite running the same file."""
    from sitegen.contract import LITERT_BACKENDS
    from sitegen.site import verify

    int8 = LITERT_BACKENDS if _full_integer(config) else ()
    if source.tflite is None:
        return verify.check_site(
            staging, function, image, browser_path, backends, int8=int8, threshold=config.threshold
        )
    from sitegen.model.families.yolo_saved_model import tflite_reference

    on_tflite = tuple(b for b in backends if b in LITERT_BACKENDS)
    on_saved = tuple(b for b in backends if b not in LITERT_BACKENDS)
    results = verify.check_site(staging, function, image, browser_path, on_saved)
    tflite = tflite_reference(source.tflite, config.model)
    results += verify.check_site(staging, tflite, image, browser_path, on_tflite)
    return sorted(results, key=lambda result: backends.index(result.backend))


def _reference_saved_model(source: ModelSource, spec: ModelSpec) -> Path | None:
    """The SavedModel the page is verified against: the input itself, or for an Ultralytics TF.js
    export the SavedModel it wrote beside the web model (``<name>_saved_model/``)."""
    if source.kind == "saved_model":
        return source.path
    family = family_for(spec.postprocess)
    if family.saved_model_beside is None:
        return None
    return family.function("saved_model_beside")(source.model_dir)


def _speed_lines(results, float_result) -> list[str]:
    """The float32 .tflite's verdict (not shipped), and int8's litert-wasm time next to it."""
    from sitegen.site.verify import TIMING_RUNS

    verdict = "agrees" if float_result.agrees else "DISAGREES"
    lines = [
        f"  float32    = {float_result.backend} on a float32 .tflite of the same cut (not "
        f"shipped) {verdict}: {float_result.detail}"
    ]
    int8 = next((r for r in results if r.backend == float_result.backend), None)
    if int8 is not None and int8.median_ms and float_result.median_ms:
        ratio = float_result.median_ms / int8.median_ms
        lines.append(
            f"  speed      = {int8.backend} int8 {int8.median_ms:.1f} ms vs float32 "
            f"{float_result.median_ms:.1f} ms per frame: {ratio:.2f}x (medians of "
            f"{TIMING_RUNS} frames, one run each; a busy machine moves them)"
        )
    return lines
