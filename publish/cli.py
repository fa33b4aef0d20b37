"""Command line: `python -m publish sample | build | release | serve | token`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from publish.errors import PublishError


def _sample(args: argparse.Namespace) -> int:
    from publish.sample.generate import generate

    result = generate(
        Path(args.out),
        parcels=args.parcels,
        seed=args.seed,
        with_defects=args.with_defects,
        progress=lambda stage: print(f"sample: {stage}", file=sys.stderr, flush=True),
    )
    for layer_id, count in result.counts.items():
        print(f"{layer_id:12s} {count:>10,d} features")
    if result.defects:
        print(f"{len(result.defects)} defects listed in {Path(args.out) / 'defects.json'}")
    print(f"catalog: {result.catalog} ({result.seconds:.1f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m publish", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="generate the sample city and its layer catalog")
    sample.add_argument("--out", required=True, help="folder to write (created if missing)")
    sample.add_argument("--parcels", type=_positive, default=20_000, help="current-use parcels")
    sample.add_argument("--seed", type=int, default=20_241_231)
    sample.add_argument("--with-defects", action="store_true", help="add known defects")
    sample.set_defaults(run=_sample)
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 100:
        raise argparse.ArgumentTypeError("must be at least 100")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
