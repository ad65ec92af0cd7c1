"""The ``talentmatch`` command: serve, worker, demo, keys, ingest, reindex, ranker, data-key,
bench, eval."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from core.errors import TalentMatchError
from core.settings import Settings

if TYPE_CHECKING:
    from store.db import Database

NEW_DATA_KEY_ENV = "TALENTMATCH_NEW_DATA_KEY"


def _settings() -> Settings:
    return Settings()


def _database(settings: Settings) -> Database:
    """The database, refused (``DataKeyMismatch``) unless the data key is the right one."""
    from store.data_key import verify_data_key
    from store.db import Database

    db = Database(settings)
    try:
        verify_data_key(db, settings.files_dir)
    except Exception:
        db.dispose()
        raise
    return db


def uvicorn_options(settings: Settings, *, host: str, port: int) -> dict[str, Any]:
    """How ``serve`` runs uvicorn. Forwarded headers (X-Forwarded-For/-Proto) count only from
    the proxies ``TALENTMATCH_TRUSTED_PROXIES`` names: uvicorn would otherwise trust any
    local peer, and whoever sets the header picks the client address rate limits count."""
    from api.request_log import logging_config

    trusted = settings.trusted_proxies
    return {
        "host": host,
        "port": port,
        "log_level": "info",
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": ",".join(trusted),
        # One request line from the app instead of uvicorn's access line (which has query
        # strings); uvicorn applies log_config in each worker process too.
        "log_config": logging_config(settings),
        "access_log": False,
    }


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app
    from cli.worker import embedded_backend_refusal

    if args.workers < 1:
        print("error: --workers must be at least 1", file=sys.stderr)
        return 1
    settings = _settings()
    refusal = embedded_backend_refusal(settings, "serve --workers N (N > 1)")
    if args.workers > 1 and refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    # Refuse a wrong data key here, with one line, rather than as a start-up traceback.
    _database(settings).dispose()
    if args.demo:
        key = _load_demo_and_key(settings, _page_origins(args.host, args.port))
        print(f"Demo API key (tenant demo-agency): {key}", flush=True)
        print(
            f"Try: curl -s -H 'Authorization: Bearer {key}' -H 'Content-Type: application/json' "
            f'-d \'{{"query": "Python 后端 深圳"}}\' http://{args.host}:{args.port}/v1/search/jobs',
            flush=True,
        )
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        print(f"Career-fair widget demo: http://{shown}:{args.port}/widget/demo", flush=True)
    options = uvicorn_options(settings, host=args.host, port=args.port)
    if args.workers > 1:
        # Each uvicorn worker process builds its own app (and settings, from the environment).
        uvicorn.run("api.app:create_app", factory=True, workers=args.workers, **options)
    else:
        uvicorn.run(create_app(settings), **options)
    return 0


def cmd_worker(_args: argparse.Namespace) -> int:
    """Apply the outbox and run bulk loads until SIGTERM or SIGINT, then finish cleanly."""
    import signal
    import threading

    from cli.worker import embedded_backend_refusal, run_worker

    settings = _settings()
    refusal = embedded_backend_refusal(settings, "talentmatch worker")
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run_worker(settings, stop)
    return 0


def _page_origins(host: str, port: int) -> list[str]:
    """The origins a browser may show this server's own pages under (the widget demo)."""
    hosts = {"127.0.0.1", "localhost"} | ({host} if host not in ("0.0.0.0", "::") else set())
    return sorted(f"http://{name}:{port}" for name in hosts)


def _load_demo_and_key(settings: Settings, page_origins: list[str]) -> str:
    from api.runtime import Runtime
    from ingestion.demo import DEMO_TENANT, demo_widget_key, load_demo, load_demo_fair
    from store.keys import create_key

    pepper = settings.auth.key_pepper.get_secret_value()
    runtime = Runtime(settings)
    try:
        runtime.start(background=False)
        counts = load_demo(runtime.db, runtime.sync)
        shown = load_demo_fair(runtime.db)
        demo_widget_key(runtime.db, settings.data_dir, page_origins, pepper=pepper)
        print(
            f"Loaded {counts.jobs} sample postings and {counts.candidates} candidates; "
            f"the demo career fair shows {shown} postings.",
            file=sys.stderr,
        )
        with runtime.db.session() as session:
            return create_key(session, tenant_id=DEMO_TENANT, role="agency", pepper=pepper)
    finally:
        runtime.close()


def cmd_demo(args: argparse.Namespace) -> int:
    from api.runtime import Runtime
    from ingestion.demo import load_demo, load_demo_fair

    settings = _settings()
    runtime = Runtime(settings)
    try:
        runtime.start(background=False)
        counts = load_demo(runtime.db, runtime.sync, jobs=args.jobs, candidates=args.candidates)
        load_demo_fair(runtime.db)
    finally:
        runtime.close()
    print(
        f"Loaded {counts.jobs} sample postings and {counts.candidates} candidates into {settings.data_dir}."
    )
    return 0


def cmd_ingest(args: argparse.Namespace) -> int:
    """A bulk load from the command line: writes the database only (the outbox carries the
    changes to the index of a running server, or of the next one to start)."""
    import time

    from core.domain import EntityKind
    from ingestion.bulk import create_ingest_job, load_lease, run_ingest_job
    from ingestion.readers import ReaderLimits
    from store.keys import get_or_create_tenant
    from store.models import IngestJob

    settings = _settings()
    path = Path(args.file)
    content = path.read_bytes()
    db = _database(settings)
    with db.session() as session:
        get_or_create_tenant(session, args.tenant)
    limits = ReaderLimits.from_settings(settings.uploads)
    entity = EntityKind.JOB if args.kind == "jobs" else EntityKind.CANDIDATE
    job = create_ingest_job(
        db, settings.files_dir, tenant_id=args.tenant, entity=entity, filename=path.name,
        content=content, limits=limits,
    )  # fmt: skip
    if job.position:
        print(f"resuming load {job.id} at record {job.position} of {job.total}", file=sys.stderr)
    started = time.monotonic()
    first = job.position

    def progress(current: IngestJob) -> None:
        done, total = current.position, max(current.total, 1)
        rate = (done - first) / max(time.monotonic() - started, 1e-3)
        eta = (total - done) / rate if rate else 0.0
        bar = "#" * int(30 * done / total)
        print(f"\r[{bar:<30}] {done}/{current.total} {rate:,.0f}/s ETA {eta:,.0f}s "
              f"failed {current.failed}", end="", file=sys.stderr, flush=True)  # fmt: skip

    # Worker processes resume unfinished loads: the lease keeps them off this one meanwhile.
    with load_lease(db, job.id) as ours:
        if not ours:
            print(f"load {job.id} is being run by a worker process", file=sys.stderr)
            db.dispose()
            return 0
        final = run_ingest_job(db, settings.files_dir, job.id, limits=limits, after_batch=progress)
    print(file=sys.stderr)
    print(f"{final.id}: {final.succeeded} loaded, {final.failed} failed of {final.total}")
    for error in (final.errors or [])[:20]:
        print(
            f"  line {error['line']}: {error.get('field') or ''} {error['message']}",
            file=sys.stderr,
        )
    db.dispose()
    return 0 if final.failed == 0 else 2


def _csv(value: str | None) -> list[str] | None:
    """A comma-separated option: None when not given, [] when given empty (``--scopes ""``
    is a key with no scopes, not one with its role's defaults)."""
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def cmd_keys(args: argparse.Namespace) -> int:
    import json
    from datetime import UTC, datetime

    from store.keys import create_key, list_keys, revoke_key, rotate_key

    settings = _settings()
    pepper = settings.auth.key_pepper.get_secret_value()
    db = _database(settings)  # creates the database and schema if needed
    try:
        if args.keys_command == "create":
            expires = None
            if args.expires:
                expires = datetime.fromisoformat(args.expires)
                expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
            with db.session() as session:
                key = create_key(
                    session, tenant_id=args.tenant, role=args.role, pepper=pepper,
                    scopes=_csv(args.scopes), origins=_csv(args.origins), fair_id=args.fair,
                    expires_at=expires,
                )  # fmt: skip
            print(key)
            return 0
        if args.keys_command == "list":
            with db.session() as session:
                for row in list_keys(session, args.tenant):
                    print(json.dumps({
                        "id": row.id, "tenant": row.tenant_id, "role": row.role,
                        "scopes": row.scopes, "origins": row.origins, "fair": row.fair_id,
                        "expires_at": row.expires_at.isoformat() if row.expires_at else None,
                        "revoked": row.revoked_at is not None, "replaced_by": row.replaced_by,
                    }, ensure_ascii=False))  # fmt: skip
            return 0
        if args.keys_command == "rotate":
            with db.session() as session:
                new = rotate_key(session, args.key, pepper=pepper, grace_hours=args.grace_hours)
            print(new)
            return 0
        with db.session() as session:
            found = revoke_key(session, args.key)
        if not found:
            print("no such key", file=sys.stderr)
            return 1
        print("revoked", file=sys.stderr)
        return 0
    finally:
        db.dispose()


def cmd_reindex(_args: argparse.Namespace) -> int:
    from api.runtime import Runtime

    runtime = Runtime(_settings())
    try:
        total = runtime.sync.reindex()
    finally:
        runtime.close()
    print(f"Reindexed {total} documents.")
    return 0


def cmd_ranker(args: argparse.Namespace) -> int:
    """Train a tenant's ranker from its feedback (promoted only if better on held-out
    feedback), or list its models."""
    import json
    from dataclasses import asdict

    from matching.training import train_ranker
    from representation.encoders import CachedEncoder, create_encoder
    from store.ranker_models import list_models

    settings = _settings()
    db = _database(settings)
    try:
        if args.ranker_command == "list":
            with db.session() as session:
                for row in list_models(session, args.tenant):
                    print(json.dumps({"version": row.version, "active": row.active,
                                      "created_at": row.created_at.isoformat(),
                                      "weights": row.model["weights"],
                                      "evaluation": row.evaluation}, ensure_ascii=False))  # fmt: skip
            return 0
        # Vectors of indexed profiles come from the embedding cache: no index lock needed,
        # so training runs next to a serving process.
        encoder = CachedEncoder(create_encoder(settings.embedding), db)
        report = train_ranker(
            db, encoder, args.tenant, holdout=args.holdout, min_pairs=args.min_pairs,
        )  # fmt: skip
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
        return 0 if report.version is not None else 2
    finally:
        db.dispose()


def _new_data_key(args: argparse.Namespace) -> str:
    """The new data key, from a file or the environment: never from the command line, which
    other users of the machine can read (ps)."""
    from core.errors import InvalidInput
    from core.settings import MAKE_A_SECRET, secret_problem

    if args.new_key_file:
        key = Path(args.new_key_file).read_text(encoding="utf-8").strip()
        source = "--new-key-file"
    else:
        key = os.environ.get(NEW_DATA_KEY_ENV, "")
        source = NEW_DATA_KEY_ENV
    if not key:
        raise InvalidInput(
            f"give the new key in {NEW_DATA_KEY_ENV} or a file named by --new-key-file",
            field="new_key",
        )
    problem = secret_problem(key)
    if problem:
        raise InvalidInput(
            f"the new key ({source}) {problem}: it must be at least 32 random bytes as hex or "
            f"base64; make one with: {MAKE_A_SECRET}",
            field="new_key",
        )
    return key


def _holding_index_locks(settings: Settings) -> list[Any]:
    """The index directories' writer locks: a running server or CLI holds them, and must
    not write under the old key while the key changes."""
    import fcntl

    from core.errors import Conflict

    handles: list[Any] = []
    for kind in ("jobs", "candidates"):
        directory = settings.index_dir / kind
        if not directory.exists():
            continue
        handle = open(directory / "LOCK", "wb")  # noqa: SIM115 - held until the rotation ends
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            handle.close()
            for held in handles:
                held.close()
            raise Conflict(
                "a server (or another command) is using this data: stop it first"
            ) from exc
        handles.append(handle)
    return handles


def cmd_data_key(args: argparse.Namespace) -> int:
    """Check the configured data key against the stored check value, or rotate to a new one."""
    from store.data_key import check_status, rotate_data_key
    from store.db import Database
    from store.pii import DataKey

    settings = _settings()
    if args.data_key_command == "check":
        db = Database(settings)
        try:
            status = check_status(db, settings.files_dir)
        finally:
            db.dispose()
        messages = {
            "ok": "ok: TALENTMATCH_AUTH__DATA_KEY is the key the data was written with",
            "unrecorded": "ok: no check value yet (the next start records it)",
            "mismatch": "error: TALENTMATCH_AUTH__DATA_KEY is not the key the data was "
            "written with",
            "pending": "error: a data key rotation was interrupted: run `talentmatch data-key "
            "rotate` again with the same new key",
        }
        print(messages[status], file=sys.stdout if status in ("ok", "unrecorded") else sys.stderr)
        return 0 if status in ("ok", "unrecorded") else 1
    new = DataKey(_new_data_key(args))
    locks = _holding_index_locks(settings)
    db = Database(settings)
    try:
        if check_status(db, settings.files_dir, new) == "ok":
            print("the data is already under the new key", file=sys.stderr)
            return 0
        report = rotate_data_key(db, settings.files_dir, db.data_key, new)
    finally:
        db.dispose()
        for lock in locks:
            lock.close()
    print(
        f"re-encrypted {report.candidates} profiles, {report.stored_files} file texts and "
        f"{report.files} stored files; start with the new key as TALENTMATCH_AUTH__DATA_KEY"
    )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from bench.run import run_benchmarks

    if args.statistics:
        from bench.statistics_bench import run_statistics_benchmark

        return run_statistics_benchmark(
            rows=args.statistics, output="bench/results/statistics.md",
            database_url=args.database_url,
        )  # fmt: skip
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
        clients = [int(c) for c in args.clients.split(",")]
    except ValueError:
        print("error: --sizes and --clients take comma-separated whole numbers", file=sys.stderr)
        return 2
    if min(sizes) < 1 or min(clients) < 1:
        print("error: --sizes and --clients must be at least 1", file=sys.stderr)
        return 2
    return run_benchmarks(
        sizes=sizes,
        queries=args.queries,
        output=args.output,
        embed_sample=args.embed_sample,
        encoder_name=args.encoder,
        clients=clients,
    )


def cmd_eval(args: argparse.Namespace) -> int:
    from bench.calibration_eval import run_calibration_evaluation
    from bench.encoder_quality import run_encoder_evaluation
    from bench.intake_eval import run_intake_evaluation
    from bench.ranking_eval import run_ranking_evaluation
    from bench.relevance_eval import run_relevance_evaluation

    status = 0
    if args.suite in ("all", "ranking"):
        # Generated, occupation-only labels fit nothing shipped (issue 16): the ranker is
        # fitted on hand labels (calibration), the search re-ranker on real titles (relevance).
        status |= run_ranking_evaluation(output="bench/results/ranking.md")
    if args.suite in ("all", "intake"):
        status |= run_intake_evaluation(output="bench/results/intake.md")
    if args.suite in ("all", "encoders"):
        status |= run_encoder_evaluation(output="bench/results/encoders.md")
    if args.suite in ("all", "relevance"):
        status |= run_relevance_evaluation(
            output="bench/results/relevance.md", fit=args.fit_default
        )
    if args.suite in ("all", "crosslang"):
        from bench.cross_language_eval import run_cross_language_evaluation

        status |= run_cross_language_evaluation(
            output="bench/results/cross_language.md", fit=args.fit_default
        )
    if args.suite in ("all", "compliance"):
        from bench.compliance_eval import reviews_from_database, run_compliance_evaluation

        reviews = []
        if args.with_reviews:
            db = _database(_settings())
            try:
                reviews = reviews_from_database(db)
            finally:
                db.dispose()
        status |= run_compliance_evaluation(output="bench/results/compliance.md", reviews=reviews)
    if args.suite in ("all", "candidates"):
        from bench.candidate_search_eval import run_candidate_search_evaluation

        status |= run_candidate_search_evaluation(
            output="bench/results/candidate_search.md", fit=args.fit_default
        )
    if args.suite in ("all", "calibration"):
        # After ranking: a ranking refit (generated labels) must not overwrite this one.
        status |= run_calibration_evaluation(
            output="bench/results/calibration.md", fit=args.fit_default
        )
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talentmatch", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--demo", action="store_true", help="load sample data and print a demo key first"
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP worker processes (more than one needs a shared search backend and "
        "'talentmatch worker' processes to apply the outbox)",
    )
    serve.set_defaults(func=cmd_serve)

    worker = commands.add_parser(
        "worker",
        help="apply index changes and run bulk loads on a shared search backend (no HTTP)",
    )
    worker.set_defaults(func=cmd_worker)

    demo = commands.add_parser("demo", help="load the bilingual sample data")
    demo.add_argument("--jobs", type=int, default=300)
    demo.add_argument("--candidates", type=int, default=150)
    demo.set_defaults(func=cmd_demo)

    keys = commands.add_parser("keys", help="manage API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True)
    create = key_commands.add_parser("create", help="create a key; prints only the key")
    create.add_argument("--tenant", required=True)
    create.add_argument(
        "--role", required=True, choices=["admin", "agency", "fair", "partner", "public"]
    )
    create.add_argument(
        "--scopes", help="comma-separated, at most the role's (default: the role's)"
    )
    create.add_argument("--origins", help="comma-separated page origins (browser keys)")
    create.add_argument("--fair", help="the fair a public key serves")
    create.add_argument("--expires", help="ISO date or datetime (UTC unless given)")
    listing = key_commands.add_parser("list", help="keys (never their secrets)")
    listing.add_argument("--tenant")
    revoke = key_commands.add_parser("revoke", help="revoke a key (full key or key id)")
    revoke.add_argument("key")
    rotate = key_commands.add_parser("rotate", help="replace a key; prints only the new key")
    rotate.add_argument("key", help="full key or key id")
    rotate.add_argument(
        "--grace-hours",
        type=float,
        default=0,
        help="keep the old key working this long (default: stop it now)",
    )
    keys.set_defaults(func=cmd_keys)

    ingest = commands.add_parser(
        "ingest", help="bulk-load postings or candidates (JSONL, CSV, zip)"
    )
    ingest.add_argument("file")
    ingest.add_argument("--kind", choices=["jobs", "candidates"], required=True)
    ingest.add_argument("--tenant", required=True)
    ingest.set_defaults(func=cmd_ingest)

    reindex = commands.add_parser("reindex", help="rebuild the search indexes from the database")
    reindex.set_defaults(func=cmd_reindex)

    ranker = commands.add_parser("ranker", help="learn ranking weights from feedback")
    ranker_commands = ranker.add_subparsers(dest="ranker_command", required=True)
    train = ranker_commands.add_parser(
        "train", help="fit on the tenant's feedback; promote only if better on held-out feedback"
    )
    train.add_argument("--tenant", required=True)
    train.add_argument("--holdout", type=float, default=0.25, help="share of queries held out")
    train.add_argument("--min-pairs", type=int, default=40, help="labelled pairs needed")
    listing = ranker_commands.add_parser("list", help="the tenant's trained models")
    listing.add_argument("--tenant", required=True)
    ranker.set_defaults(func=cmd_ranker)

    data_key = commands.add_parser("data-key", help="check or rotate the personal-data key")
    data_key_commands = data_key.add_subparsers(dest="data_key_command", required=True)
    data_key_commands.add_parser(
        "check", help="whether TALENTMATCH_AUTH__DATA_KEY is the key the data was written with"
    )
    rotate_data = data_key_commands.add_parser(
        "rotate",
        help=f"re-encrypt all personal data under a new key (from {NEW_DATA_KEY_ENV} or "
        "--new-key-file); stop the server first",
    )
    rotate_data.add_argument(
        "--new-key-file", help="a file holding the new key (else the environment variable)"
    )
    data_key.set_defaults(func=cmd_data_key)

    bench = commands.add_parser(
        "bench", help="search, match, memory and disk in-process and through HTTP, by size"
    )
    bench.add_argument("--sizes", default="10000,100000")
    bench.add_argument(
        "--queries", type=int, default=200,
        help="searches and matches per measurement (and per concurrency level over HTTP)",
    )  # fmt: skip
    bench.add_argument(
        "--clients", default="1,4,8",
        help="concurrent HTTP clients for the throughput curve, comma-separated",
    )  # fmt: skip
    bench.add_argument(
        "--embed-sample",
        type=int,
        default=2000,
        help="postings ingested with real embedding to measure encoder overhead",
    )
    bench.add_argument(
        "--encoder",
        choices=["use", "hashing"],
        default="use",
        help="encoder for the large runs (use = the default model, cached by content)",
    )
    bench.add_argument("--output", default="bench/results/bench.md")
    bench.add_argument(
        "--statistics", type=int, default=0, metavar="ROWS",
        help="only time the market statistics over ROWS generated postings and ROWS seekers",
    )  # fmt: skip
    bench.add_argument("--database-url", default=None,
                       help="with --statistics: a database to fill (default: a new SQLite file)")  # fmt: skip
    bench.set_defaults(func=cmd_bench)

    evaluate = commands.add_parser(
        "eval",
        help="quality reports: intake, ranking (MAP, nDCG@10, P@5, recall@100), encoders, "
        "relevance (real job titles), crosslang (hand-graded cross-language titles), "
        "compliance (discriminatory requirements in postings), candidates (hand-written "
        "résumés), calibration (hand-labelled match scores)",
    )
    evaluate.add_argument(
        "suite",
        nargs="?",
        choices=[
            "all",
            "intake",
            "ranking",
            "encoders",
            "relevance",
            "crosslang",
            "compliance",
            "candidates",
            "calibration",
        ],
        default="all",
    )
    evaluate.add_argument(
        "--fit-default",
        action="store_true",
        help="first refit the shipped default models: relevance, the search re-ranker on the "
        "tuning half of the real title set; calibration, the match ranker on the fitting half "
        "of the hand-labelled match set; candidates, the candidate re-ranking weights on the "
        "set's tuning half; crosslang, the search re-ranker's cross-language weights on the "
        "tuning half of the hand-graded titles (ranking, on generated data, refits nothing)",
    )
    evaluate.add_argument(
        "--with-reviews",
        action="store_true",
        help="compliance: add the flags the operator reviewed (from the database) to the set",
    )
    evaluate.set_defaults(func=cmd_eval)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        result: int = args.func(args)
    except TalentMatchError as exc:  # e.g. the index is held by a running server
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    except ValidationError as exc:  # settings: weak secrets in production, bad values
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"])
            print(f"error: {where + ': ' if where else ''}{error['msg']}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
