"""Write a TF1 OD API SSD MobileNetV2 export (300x300, 1917 anchors, random weights) for the
benchmark's TF1 SSD row: frozen graph, SavedModel, pipeline.config and labels, with the names the
TF1 exporter writes (tests/helpers/tf1_ssd.py; docs/tf1-ssd-graph.md).

    .venv/bin/python -m benchmarks.make_tf1_ssd /tmp/tf1-ssd-mobilenet-v2
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.make_tf1_ssd", description=__doc__)
    parser.add_argument("out", type=Path, help="a new folder")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"{args.out} is not empty; pass a new folder")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from tests.helpers.tf1_ssd import build_tf1_ssd

    build_tf1_ssd(args.out, seed=args.seed, input_size=300, backbone="mobilenet_v2")
    print(f"Wrote a TF1 SSD MobileNetV2 export to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
