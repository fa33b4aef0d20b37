"""Command line: `python -m publish sample | build | release | seed | serve | token`.

`release list | switch ID | diff OLD NEW [--json] | push --to TARGET ...` (the diff:
publish.history.command; the push to nodes: publish.release.push; `release-node STEP`, what the
push runs on a node over ssh: publish.release.node)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from publish.domain import AUDIENCES, INTERNAL, PUBLIC
from publish.errors import PublishError, ReviewFailedError

# Exit statuses: 2 for a usage or data error, 3 when the review refuses to publish.
EXIT_ERROR = 2
EXIT_REVIEW_FAILED = 3


def _sample(args: argparse.Namespace) -> int:
    from publish.sample.generate import generate

    result = generate(
        Path(args.out),
        parcels=args.parcels,
        seed=args.seed,
        with_defects=args.with_defects,
        progress=lambda stage: print(f"sample: {stage}", file=sys.stderr, flush=True),
        revision=args.revision,
    )
    changed = {k: len(v) for k, v in result.changes["layers"].items()}
    for layer_id, count in result.counts.items():
        note = f"  {changed[layer_id]:>6,d} changed" if changed.get(layer_id) else ""
        print(f"{layer_id:12s} {count:>10,d} features{note}")
    if args.revision > 1:
        print(
            f"revision {args.revision}: {sum(changed.values()):,d} changes since revision "
            f"{args.revision - 1} listed in {Path(args.out) / 'changes.json'}"
        )
    if result.defects:
        print(f"{len(result.defects)} defects listed in {Path(args.out) / 'defects.json'}")
    print(f"catalog: {result.catalog} ({result.seconds:.1f} s)")
    return 0


def _build(args: argparse.Namespace) -> int:
    from publish.pipeline.build import BuildOptions, build

    result = build(
        BuildOptions(
            catalog=Path(args.catalog),
            out=Path(args.out),
            only=tuple(args.only or ()),
            keep=args.keep,
            server_config=Path(args.server_config) if args.server_config else None,
            styles_dir=Path(args.styles_dir) if args.styles_dir else None,
            note=_note(args),
            author=args.author,
        )
    )
    print(f"release {result.release_id}: {result.path}")
    print(f"rebuilt: {', '.join(result.rebuilt) or '-'}; reused: {', '.join(result.reused) or '-'}")
    return 0


def _note(args: argparse.Namespace) -> str | None:
    """The release note: --note TEXT, or the text of --note-file PATH."""
    if args.note_file is None:
        return str(args.note) if args.note else None
    try:
        return Path(args.note_file).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError) as exc:
        raise PublishError(
            f"--note-file {args.note_file}: cannot be read as UTF-8 text: {exc}"
        ) from None


def _release(args: argparse.Namespace) -> int:
    from publish.release.store import ReleaseStore

    if args.action == "diff":
        from publish.history.command import run_diff

        return run_diff(args)
    if args.action == "push":
        from publish.release.push import run_push

        return run_push(args)
    store = ReleaseStore(Path(args.out))
    if args.action == "list":
        releases = store.describe()
        if not releases:
            print(f"no releases under {store.releases}")
        for info in releases:
            mark = "*" if info.current else " "
            print(
                f"{mark} {info.id}  {info.created or '-':25s}  {info.layers:3d} layers  "
                f"{info.bytes / 1e6:8.1f} MB  {info.author or '-'}  {info.note or '-'}"
            )
            if info.changes:
                print(f"    {info.changes}")
        return 0
    if not args.id:
        raise PublishError("release switch needs a release id (see `release list`)")
    store.switch(args.id)
    print(f"current → {args.id}")
    return 0


def _seed(args: argparse.Namespace) -> int:
    from publish.server.settings import env_value
    from publish.wms.seed import parse_zooms, seed

    tiles = args.tiles or env_value("TILES_DIR") or "tiles"
    data_dir = args.data_dir or env_value("DATA_DIR")
    template = args.mapproxy_template or env_value("MAPPROXY_TEMPLATE")
    layers = [part for item in args.layers for part in item.split(",") if part]
    result = seed(
        Path(tiles),
        parse_zooms(args.zoom),
        audience=args.audience,
        layers=layers,
        concurrency=args.concurrency,
        template=Path(template) if template else None,
        data_dir=Path(data_dir) if data_dir else None,
    )
    print(
        f"release {result.release_id}: seeded {', '.join(result.caches)} "
        f"z{result.levels[0]}-{result.levels[1]} in {result.seconds} s"
    )
    return 0


def add_build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", required=True, help="the layer catalog (layers.yml)")
    parser.add_argument("--out", required=True, help="the tiles folder (releases/, current)")
    parser.add_argument(
        "--only", nargs="+", metavar="ID", help="rebuild only these layers, reuse the others"
    )
    parser.add_argument("--keep", type=_at_least_one, help="keep only the N newest releases")
    parser.add_argument(
        "--server-config", help="pygeoapi server metadata (default: the package's pygeoapi.yml)"
    )
    parser.add_argument(
        "--styles-dir", help="the style symbols' folder (default: the package's styles/)"
    )
    note = parser.add_mutually_exclusive_group()
    note.add_argument("--note", help="why this release was made (kept in its manifest)")
    note.add_argument("--note-file", metavar="PATH", help="the note, from a UTF-8 text file")
    parser.add_argument("--author", help="who made this release (kept in its manifest)")
    parser.set_defaults(run=_build)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m publish", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    sample = commands.add_parser("sample", help="generate the sample city and its layer catalog")
    sample.add_argument("--out", required=True, help="folder to write (created if missing)")
    sample.add_argument("--parcels", type=_positive, default=20_000, help="current-use parcels")
    sample.add_argument("--seed", type=_non_negative, default=20_241_231)
    sample.add_argument("--with-defects", action="store_true", help="add known defects")
    sample.add_argument(
        "--revision",
        type=_at_least_one,
        default=1,
        help="revision N of the same city (1: as generated); changes.json lists what changed",
    )
    sample.set_defaults(run=_sample)
    add_build_arguments(
        commands.add_parser("build", help="check the catalog's layers and publish a release")
    )
    release = commands.add_parser(
        "release",
        help="list releases, switch to one, show what changed between two, push one to nodes",
    )
    release.add_argument("action", choices=("list", "switch", "diff", "push"))
    release.add_argument("id", nargs="?", help="release id (switch; diff: the old release)")
    release.add_argument("other", nargs="?", help="diff: the new release")
    release.add_argument(
        "--out", "--tiles", dest="out", required=True, help="the tiles folder (push: the source)"
    )
    release.add_argument("--json", action="store_true", help="diff: print the JSON document")
    release.add_argument("--audience", choices=AUDIENCES, default=INTERNAL, help="diff: whose")
    release.add_argument("--save", metavar="DIR", help="diff: also write diff.json, diff.html")
    from publish.release.push import add_arguments as add_push_arguments

    add_push_arguments(release)
    release.set_defaults(run=_release)
    seed = commands.add_parser(
        "seed", help="pre-render the current release's WMS/WMTS raster caches over the city"
    )
    seed.add_argument("--tiles", help="the tiles folder (else $PUBLISH_TILES_DIR, else tiles)")
    seed.add_argument("--zoom", default="0-12", help="levels to seed, N or N-M (default 0-12)")
    seed.add_argument("--audience", choices=AUDIENCES, default=PUBLIC)
    seed.add_argument(
        "--layers", nargs="+", default=["plan"], help="plan (the whole map) and/or layer ids"
    )
    seed.add_argument("--concurrency", type=_at_least_one, default=2, help="tiles at once")
    seed.add_argument(
        "--data-dir", help="the server's data folder (else $PUBLISH_DATA_DIR, else TILES/.data)"
    )
    seed.add_argument(
        "--mapproxy-template",
        help="MapProxy template (else $PUBLISH_MAPPROXY_TEMPLATE, else the package's)",
    )
    seed.set_defaults(run=_seed)
    from publish.release import postgis as postgis_release

    postgis = commands.add_parser(
        "postgis",
        help="publish the current release's features in PostGIS (pygeoapi's PostgreSQL provider)",
    )
    postgis_release.add_arguments(postgis)
    postgis.set_defaults(run=postgis_release.run)
    from publish.server.commands import add_commands  # imports starlette/uvicorn only when run

    add_commands(commands)
    from publish.deploy import command as deploy_command  # `deploy nginx`

    deploy_command.add_commands(commands)
    from publish.release.node import add_command as add_release_node  # the push's node side

    add_release_node(commands)
    return parser


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 100:
        raise argparse.ArgumentTypeError("must be at least 100")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except ReviewFailedError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_REVIEW_FAILED
    except PublishError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
