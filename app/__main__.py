"""The command-line tool: python -m app COMMAND (also installed as `selectieplatform`)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.config import get_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="bring the database schema up to date")

    admin = commands.add_parser("create-admin", help="create a platform admin")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    demo = commands.add_parser("demo", help="load the demo data into an empty database")
    demo.add_argument("--if-empty", action="store_true", help="do nothing when data exists")

    export = commands.add_parser("export-audit", help="print a chain as JSON Lines")
    export.add_argument("reference", help="the procedure's reference, or 'platform'")
    export.add_argument(
        "--public", action="store_true", help="the public form only (no actor, data or salt)"
    )

    verify = commands.add_parser(
        "verify-audit", help="verify an exported chain (public or full), optionally a checkpoint"
    )
    verify.add_argument("file", type=Path, help="a JSON Lines export, or - for standard input")
    verify.add_argument(
        "--checkpoint", type=Path, help="a signed checkpoint (JSON) the chain must still contain"
    )
    verify.add_argument(
        "--keys",
        type=Path,
        help="the platform's public keys (its /audit/keys.json); default: this installation's",
    )

    commands.add_parser(
        "rotate-signing-key",
        help="make a new checkpoint signing key current; the old one stays published",
    )

    lottery = commands.add_parser(
        "verify-lottery", help="recompute a published draw record step by step"
    )
    lottery.add_argument("file", type=Path, help="a draw record (JSON), or - for standard input")

    placement = commands.add_parser(
        "verify-placement", help="recompute a published placement round step by step"
    )
    placement.add_argument("round", type=Path, help="the round's record (JSON), or - for stdin")
    placement.add_argument(
        "previous", type=Path, nargs="?", help="the previous round's record, to check the link"
    )
    placement.add_argument(
        "draw", type=Path, nargs="?", help="the ordering draw's record, to check the priority"
    )

    serve = commands.add_parser("serve", help="migrate and serve (what `make run` does)")
    serve.add_argument("--demo", action="store_true", help="load demo data on first start")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    commands.add_parser(
        "worker",
        help="run the jobs: mail, the published times, the daily purge and checkpoints "
        "(on PostgreSQL; on SQLite `serve` runs them itself)",
    )
    commands.add_parser("prune", help="remove expired sessions and old login failures")
    commands.add_parser(
        "purge", help="erase applications whose retention period has passed (also daily)"
    )

    move = commands.add_parser(
        "move-documents",
        help="copy every document to another store and check each SHA-256 (then switch "
        "DOCUMENTS_URL)",
    )
    move.add_argument(
        "--to", required=True, metavar="URL", help="'database' or file:///an/absolute/path"
    )

    args = parser.parse_args(argv)
    handler = globals()[f"_{args.command.replace('-', '_')}"]
    return int(handler(args) or 0)


def _migrate(_args: argparse.Namespace) -> int:
    from app.migrate import upgrade

    upgrade(get_settings().database_url)
    print("Database is up to date.")
    return 0


def _create_admin(args: argparse.Namespace) -> int:
    from app.accounts.passwords import MIN_LENGTH
    from app.accounts.service import create_user, find_user, normalise_email
    from app.db import connect
    from app.errors import DomainError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
    if len(password) < MIN_LENGTH:
        print(f"The password needs at least {MIN_LENGTH} characters.", file=sys.stderr)
        return 2
    database = connect(get_settings().database_url)
    try:
        with database.session(write=True) as session:
            if find_user(session, normalise_email(args.email)):
                print(f"An account for {args.email} exists already.", file=sys.stderr)
                return 2
            create_user(
                session, email=args.email, name=args.name, password=password, platform_admin=True
            )
    except DomainError as error:
        print(error.message, file=sys.stderr)
        return 2
    finally:
        database.dispose()
    print(f"Platform admin {args.email} created.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from app import demo
    from app.db import connect

    settings = get_settings()
    database = connect(settings.database_url)
    try:
        with database.session() as session:
            loaded = demo.is_loaded(session)
        if loaded:
            if args.if_empty:
                return 0
            print("The database holds data already; the demo loads only into an empty one.")
            return 2
        accounts = demo.load(database, settings)
    finally:
        database.dispose()
    print(demo.describe(accounts, settings.base_url))
    return 0


def _export_audit(args: argparse.Namespace) -> int:
    from app.audit import chain as chainlib
    from app.audit.service import chain_version, export_lines, public_export_lines
    from app.db import connect

    database = connect(get_settings().database_url)
    try:
        with database.session() as session:
            version = chain_version(session, args.reference)
            if args.public and version is not None and version != chainlib.VERSION_2:
                print(f"{args.reference} is a version-1 chain: it has no public form.",
                      file=sys.stderr)  # fmt: skip
                return 1
            count = 0
            lines = public_export_lines if args.public else export_lines
            for line in lines(session, args.reference):
                sys.stdout.write(line)
                count += 1
    finally:
        database.dispose()
    if count == 0:
        print(f"No chain named {args.reference}.", file=sys.stderr)
        return 1
    return 0


def _verify_audit(args: argparse.Namespace) -> int:
    """Exit 0 when everything checks out, 1 when a check fails, 2 when an input is unusable."""
    from app.audit import checkpoint as checkpoints
    from app.audit.keys import Keyring, SigningKeyError, keyring_for

    checkpoint = None
    keys: list[checkpoints.PublishedKey] = []
    try:
        if args.checkpoint is not None:
            checkpoint = checkpoints.parse_checkpoint(_read(args.checkpoint))
            if args.keys is not None:
                keys = checkpoints.parse_keys(_read(args.keys))
            else:
                keyring: Keyring = keyring_for(get_settings())
                keys = keyring.read_published()
                if not keys:
                    print("No keys: give the platform's keys.json with --keys.", file=sys.stderr)
                    return 2
        if str(args.file) == "-":
            report = checkpoints.verify(sys.stdin, checkpoint, keys)
        else:
            with args.file.open(encoding="utf-8", errors="replace") as handle:
                report = checkpoints.verify(handle, checkpoint, keys)
    except OSError as error:
        print(f"Cannot read {error.filename or args.file}: {error.strerror}", file=sys.stderr)
        return 2
    except checkpoints.FormatError as error:
        details = ", ".join(f"{key}={value}" for key, value in error.args_.items())
        print(f"Not usable: {error.problem}" + (f" ({details})" if details else ""),
              file=sys.stderr)  # fmt: skip
        return 2
    except SigningKeyError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(report.describe())
    return 0 if report.ok else 1


def _read(path: Path) -> str:
    return (
        sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8", errors="replace")
    )


def _rotate_signing_key(_args: argparse.Namespace) -> int:
    from app.audit.keys import SigningKeyError, keyring_for

    keyring = keyring_for(get_settings())
    try:
        new = keyring.rotate()
    except SigningKeyError as error:
        print(str(error), file=sys.stderr)
        return 2
    print(f"New signing key {new.key} (public key {new.public_key}), in use from {new.since}.")
    print("Earlier keys stay published at /audit/keys.json with the time they stopped.")
    print("Running servers sign with the new key from their next checkpoint on.")
    return 0


def _verify_lottery(args: argparse.Namespace) -> int:
    """Exit 0 when the record checks out, 1 when a step fails, 2 when it is not a record."""
    from app.lottery import draw

    try:
        text = sys.stdin.read() if str(args.file) == "-" else args.file.read_text(encoding="utf-8")
        verdict = draw.verify(draw.parse(text))
    except OSError as error:
        print(f"Cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    except (ValueError, UnicodeDecodeError) as error:
        print(f"Not a draw record: {error}", file=sys.stderr)
        return 2
    for number, step in enumerate(verdict.steps, 1):
        print(f"{number}. {'ok  ' if step.ok else 'FAIL'} {step.what}: {step.detail}")
    print("The draw is correct." if verdict.ok else "The draw does NOT check out.")
    return 0 if verdict.ok else 1


def _verify_placement(args: argparse.Namespace) -> int:
    """Exit 0 when the round checks out, 1 when a step fails, 2 when a file is not a record.
    The optional files go by their version: a draw record may come second."""
    from app.lottery.draw import VERSION as DRAW_VERSION
    from app.placement import verify

    records = []
    for path in [args.round, args.previous, args.draw]:
        if path is None:
            continue
        try:
            text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
            records.append(verify.parse(text))
        except OSError as error:
            print(f"Cannot read {path}: {error.strerror}", file=sys.stderr)
            return 2
        except (ValueError, UnicodeDecodeError) as error:
            print(f"{path} is not a record: {error}", file=sys.stderr)
            return 2
    record, *others = records
    draw = next((r for r in others if r.get("version") == DRAW_VERSION), None)
    previous = next((r for r in others if r is not draw), None)
    verdict = verify.verify(record, previous, draw)
    for number, step in enumerate(verdict.steps, 1):
        print(f"{number}. {'ok  ' if step.ok else 'FAIL'} {step.what}: {step.detail}")
    if previous is None and record.get("round") != 1:
        print("Not checked without the previous round: its hash, that nothing but the")
        print("withdrawn changed, and that nobody moved down their own list.")
    if draw is None:
        print("Not checked without the draw record: that the priority is the draw's order.")
    print("The placement is correct." if verdict.ok else "The placement does NOT check out.")
    return 0 if verdict.ok else 1


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app import demo

    # The links in e-mails point where this server listens, unless BASE_URL says otherwise
    # (behind a proxy). Set before the settings are read; the workers inherit it.
    if "BASE_URL" not in os.environ:
        os.environ["BASE_URL"] = f"http://{args.host}:{args.port}"
        get_settings.cache_clear()
    settings = get_settings()
    _migrate(args)
    if args.demo:
        from app.db import connect

        database = connect(settings.database_url)
        with database.session() as session:
            empty = not demo.is_loaded(session)
        if empty:
            demo.load(database, settings)
        database.dispose()
        accounts = demo.saved_accounts(settings.var_dir)
        if accounts:
            print(demo.describe(accounts, f"http://{args.host}:{args.port}"), flush=True)
    print(f"Serving on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # The app reads X-Forwarded-For itself, from TRUSTED_PROXIES only. uvicorn's own
        # handling believes it from 127.0.0.1 (or FORWARDED_ALLOW_IPS) and would rewrite
        # the client address before the app sees the connection's real one.
        proxy_headers=False,
    )
    return 0


def _worker(_args: argparse.Namespace) -> int:
    import logging

    import app.main  # noqa: F401  (every task registered, and the templates' words)
    from app import worker

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    worker.run(get_settings())
    return 0


def _prune(_args: argparse.Namespace) -> int:
    from app.accounts.service import prune_expired
    from app.db import connect

    settings = get_settings()
    database = connect(settings.database_url)
    try:
        with database.session(write=True) as session:
            prune_expired(session, settings)
    finally:
        database.dispose()
    return 0


def _purge(_args: argparse.Namespace) -> int:
    from app.applications.privacy import purge
    from app.applications.stores import open_storage
    from app.db import connect

    settings = get_settings()
    database = connect(settings.database_url)
    try:
        with database.session(write=True) as session:
            count = purge(session, open_storage(settings, database.engine))
    finally:
        database.dispose()
    print(f"Erased {count} applications past their retention period.")
    return 0


def _move_documents(args: argparse.Namespace) -> int:
    from app.applications.stores import describe, move_documents, open_storage, storage_from_url
    from app.db import connect

    settings = get_settings()
    database = connect(settings.database_url)
    try:
        source = open_storage(settings, database.engine)
        try:
            target = storage_from_url(args.to, database.engine)
        except ValueError as error:
            print(str(error).replace("DOCUMENTS_URL", "--to"), file=sys.stderr)
            return 2
        if describe(source) == describe(target):
            print(f"The documents are in {describe(target)} already.", file=sys.stderr)
            return 2
        report = move_documents(database, source, target)
    finally:
        database.dispose()
    print(
        f"{report.total} documents: {report.copied} copied, {report.present} there already, "
        f"{len(report.failed)} failed."
    )
    for problem in report.failed:
        print(f"  {problem}", file=sys.stderr)
    if report.failed:
        print(
            f"Keep DOCUMENTS_URL={describe(source)}; run this again once the failures "
            "are explained.",
            file=sys.stderr,
        )
        return 1
    print(
        f"Every document is in {describe(target)} and matches its SHA-256. Set "
        f"DOCUMENTS_URL={describe(target)} and restart; {describe(source)} was left as it was."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
