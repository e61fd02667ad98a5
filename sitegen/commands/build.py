"""``sitegen build``: the build's stages (``sitegen.build``) run, and one line on what was built."""

from __future__ import annotations

from sitegen.build import BuildOptions, BuildResult, build


def build_site(options: BuildOptions) -> str:
    """Build the site ``options`` ask for; the line that says what was built and how to try it."""
    return summary_line(build(options))


def summary_line(result: BuildResult) -> str:
    spec = result.config.model
    runtimes = "TF.js + LiteRT.js" if spec.litert else "TF.js only"
    return (
        f"Built {result.out} ({result.files} files, model {result.model_bytes / 1e6:.1f} MB, "
        f"{spec.postprocess} post-processing, {runtimes}). Try it: sitegen serve {result.out}"
    )
