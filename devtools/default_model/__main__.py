"""Maintainers' tools for the embedded default model (not shipped in the sitegen wheel):

    python -m devtools.default_model scenes OUT [--count N] [--seed S] [--empty]
    python -m devtools.default_model train [--out models/default] [--seed 0] ...
    python -m devtools.default_model evaluate models/default/saved_model [--seed 12345]

Needs the repository's ``default-model`` dependency group (TensorFlow, scikit-image, pycocotools).
"""

from __future__ import annotations

import sys

COMMANDS = ("scenes", "train", "evaluate")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "scenes":
        from devtools.default_model.scenes import main as run
    elif command == "train":
        from devtools.default_model.training import main as run
    else:
        from devtools.default_model.evaluate import main as run
    return run(rest)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
