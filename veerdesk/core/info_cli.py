"""`veerdesk info IMAGE`: print the facts of a scan without decoding its pixels."""

from __future__ import annotations

import argparse

from veerdesk.core.image import probe_image


def run_info(args: argparse.Namespace) -> int:
    info = probe_image(args.image, page=args.page - 1, pdf_dpi=args.pdf_dpi)
    print(info.describe())
    return 0
