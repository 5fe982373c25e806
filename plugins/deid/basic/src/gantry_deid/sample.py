"""Write sample studies with identifiers planted where scanners put them (``make run`` uses it):

    python -m gantry_deid.sample out/phi-sample

Two patients, each with a CT series whose every Table E.1-1 attribute holds an identifier (also
nested three sequences deep, in private tags, overlays, the File Meta and the preamble), an SR
report with names and dates in its text, and an ultrasound image with text burned into its
pixels (see :mod:`gantry.testing.phi_corpus`).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    from gantry.testing.phi_corpus import write_phi_corpus

    from gantry_deid.tables import table_e1_1

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m gantry_deid.sample OUTPUT_FOLDER", file=sys.stderr)
        return 2
    corpus = write_phi_corpus(args[0], [row.tag_text for row in table_e1_1().rows])
    print(f"wrote {len(corpus.files)} files with {len(corpus.tokens)} planted identifiers into {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
