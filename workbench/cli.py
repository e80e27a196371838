"""The ``workbench`` command line (Typer + Rich).

Each command opens one session, calls the domain layer, and prints. Feature areas register their
own sub-commands (``register(app, bench)`` in ``<area>/cli.py``) so this file stays small.
Errors the user can fix (bad database URL, bad input) print one clear line and exit non-zero;
they never show a traceback.
"""

from __future__ import annotations

import getpass
import importlib
import json
import logging
import os
import sys
import threading
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from workbench.schema import SchemaError, ValidationError
from workbench.settings import get_settings
from workbench.store.db import DatabaseError

app = typer.Typer(help="Sanctions-target research workbench.", no_args_is_help=True, add_completion=False)
users_app = typer.Typer(help="Manage users, roles and API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks: print figures beside a baseline measured in the same run.",
                        no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(audit_app, name="audit")
app.add_typer(bench_app, name="bench")

# No markup: what these print holds names, file names and values from the files and the store, where
# '[/i]' or '[red]' is text, not a style (styles go in as Text, see ``labelled``).
console = Console(soft_wrap=True, markup=False)
err = Console(stderr=True, soft_wrap=True, markup=False)


def labelled(label: str, style: str, message: str) -> Text:
    """'error: ...' with the label styled and the message exactly as given."""
    return Text.assemble((label, style), " ", message)

# Feature areas that add commands; each module defines register(app, bench_app).
PLUGINS = (
    "workbench.sources.cli",
    "workbench.matching.cli",
    "workbench.graph.cli",
    "workbench.dossiers.cli",
    "workbench.web.cli",
    "workbench.maintenance",
    "workbench.fuzzing",
)


def fail(message: str, code: int = 1) -> None:
    err.print(labelled("error:", "bold red", message), highlight=False)
    raise typer.Exit(code)


def cli_actor():
    """The actor for CLI commands: the operator at the console acts with full rights, by name."""
    from workbench.store.permissions import Actor

    name = os.environ.get("WORKBENCH_ACTOR") or f"cli:{getpass.getuser()}"
    return Actor(name, "admin", operator=True)


def open_database(create: bool = False):
    """Return the engine for the configured database, with clear messages for the usual mistakes."""
    from workbench.store import db, migrate

    settings = get_settings()
    try:
        engine = db.get_engine(settings.database_url)
        db.check_connection(engine)
    except DatabaseError as exc:
        fail(str(exc))
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        # Each command would get its own empty database, gone when it ends: 'ready' would be a lie.
        fail(f"{settings.database_url} is an in-memory database, gone when the command ends: give a file, "
             "e.g. sqlite:///workbench.db", 2)
    current = migrate.current_revision(engine) if db.is_initialised(engine) else None
    if not migrate.known_revision(current):  # a rolled-back deployment: init cannot upgrade it either
        fail(migrate.newer_schema_message(current))
    if create:
        migrate.upgrade(engine)
    elif not db.is_initialised(engine):
        fail(f"the database {engine.url.render_as_string(hide_password=True)} is not initialised: run `workbench init`")
    elif current != migrate.head_revision():
        fail("the database schema is older than this version of the workbench: run `workbench init` to upgrade it")
    return engine


def session():
    from workbench.store.db import session_scope

    return session_scope(get_settings().database_url)


def run_guarded(func, *args, **kwargs):
    """Turn the domain layer's user-facing exceptions into one-line messages."""
    from workbench.store.entities import Conflict, NotFound
    from workbench.store.permissions import PermissionDenied

    try:
        return func(*args, **kwargs)
    except (ValidationError, NotFound) as exc:  # bad input, or an unknown id or name: exit 2 (README)
        fail(str(exc), 2)
    except (Conflict, PermissionDenied, SchemaError, DatabaseError) as exc:
        fail(str(exc))


@app.command()
def init(demo: bool = typer.Option(False, "--demo", help="Also load the demo data and demo users.")) -> None:
    """Create or upgrade the database (and optionally load the demo data)."""
    from sqlalchemy.engine import make_url

    open_database(create=True)
    # Never the password: this line goes to terminals, CI logs and cron mail.
    console.print(f"database ready: {make_url(get_settings().database_url).render_as_string(hide_password=True)}",
                  markup=False)
    if demo:
        load_demo_data()


def load_demo_data() -> None:
    from workbench.sources.demo import load_demo

    with session() as s:
        result = run_guarded(load_demo, s, cli_actor())
    console.print(
        f"demo data: {result.created} created, {result.updated} updated, {result.unchanged} unchanged"
        + (f"; {result.dossiers} demo dossier(s) created" if result.dossiers else "")
    )
    if result.new_users:
        table = Table(title="Demo users (passwords are shown once; they are not stored anywhere in clear)")
        table.add_column("user")
        table.add_column("role")
        table.add_column("password")
        for username, role, password in result.new_users:
            table.add_row(username, role, password)
        console.print(table)


@app.command()
def serve(
    demo: bool = typer.Option(False, "--demo", help="Create the database if needed and load the demo data first."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on (0.0.0.0: every interface; put "
                             "HTTPS in front and set WORKBENCH_SECURE_COOKIES)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="Port to listen on."),
) -> None:
    """Serve the web workbench."""
    import uvicorn

    _check_port_free(host, port)
    if demo:
        open_database(create=True)
        load_demo_data()
    else:
        open_database()
    from workbench.store.db import get_engine, shared_sqlite_files
    from workbench.web.app import create_app

    shared = shared_sqlite_files(get_engine(get_settings().database_url))
    if shared:
        err.print(f"warning: other users of this machine can read {', '.join(shared)}, which holds password hashes "
                  "and every unreleased finding: `chmod 600` them unless you share the database on purpose")
    _check_data_folder()
    threading.Thread(target=warm_caches, args=(get_settings().database_url,), name="warm-caches", daemon=True).start()
    console.print(f"serving on http://{host}:{port}/")
    uvicorn.run(create_app(), host=host, port=port, log_level="info", **proxy_options())


def warm_caches(url: str) -> None:
    """Build the name index, the graph and the home page's ranking while the server starts, not in the first
    request that needs them: on a store of 67,000 entries the first search waited 40-60 s and the first home
    page over a minute. Requests arriving meanwhile wait on the same locks instead of building twice. A failure
    here is logged; the request that needs the cache meets it again and reports it."""
    from workbench.graph import analysis
    from workbench.matching.search import store_index
    from workbench.store.db import session_scope

    try:
        with session_scope(url) as session:
            store_index(session)
            analysis.exposure(session)  # builds the projection, then the ranking the home page shows
    except Exception:  # noqa: BLE001 - best effort: the server serves either way
        logging.getLogger("workbench").exception("warming the caches failed")


def _check_data_folder() -> None:
    """The server signs sessions with a key it keeps in the data folder, and stores uploads there: a folder it
    cannot write is said now, not as a traceback after 'serving on'."""
    settings = get_settings()
    try:
        settings.signing_key()
        settings.files_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"cannot use the data folder {settings.data_dir} ({exc.strerror or exc}): set WORKBENCH_DATA_DIR to a "
             "folder the workbench can write (it keeps the session signing key and the stored files there)")
    if settings.secret_key and len(settings.secret_key) < 32:
        err.print(labelled("warning:", "yellow", f"WORKBENCH_SECRET_KEY has {len(settings.secret_key)} characters: "
                           "anyone who guesses it can sign in as anyone. Use 32 or more random characters (e.g. "
                           "`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`)"), highlight=False)


def proxy_options() -> dict:
    """uvicorn believes X-Forwarded-For from 127.0.0.1 unless told otherwise: then anyone on the
    machine could pose as any address to the sign-in throttle. Only WORKBENCH_TRUSTED_PROXIES are."""
    proxies = get_settings().trusted_proxies.strip()
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


def _check_port_free(host: str, port: int) -> None:
    """A busy port is the usual reason a second `serve` cannot start (another workbench is running):
    say so, before loading anything, instead of uvicorn's log line and exit code 3."""
    import socket

    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror} (check --host)", 2)
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind(address)
        except OSError as exc:
            fail(f"cannot listen on {host}:{port}: {exc.strerror} (is another workbench serving there? "
                 "stop it or choose another --port)", 2)


@app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="One JSON object.")) -> None:
    """Counts of entities and links per kind, names, sources and citations, and of entries merged into others
    (counted apart)."""
    from workbench.store.entities import stats as compute

    open_database()
    with session() as s:
        result = compute(s)
    if as_json:
        sys.stdout.write(json.dumps(result) + "\n")
        return
    table = Table(title="Workbench contents")
    table.add_column("what")
    table.add_column("count", justify="right")
    entity_label, link_label = _kind_labels()
    for kind, n in result["entities"].items():
        table.add_row(f"entities: {entity_label(kind)}", str(n))
    for kind, n in result["links"].items():
        table.add_row(f"links: {link_label(kind)}", str(n))
    for key in ("names", "sources", "citations"):
        table.add_row(key, str(result[key]))
    if result["merged"]:
        table.add_row("entries merged into others (not counted above)", str(result["merged"]))
    console.print(table)


def _kind_labels():
    """What a reader calls each kind ('Real estate', 'part of'); the JSON keeps the schema's names for
    scripts. A kind since dropped from the schema shows its name."""
    from workbench.schema import registry

    schema = registry()

    def entity_label(kind: str) -> str:
        spec = schema.entity_kinds.get(kind)
        return spec.plural if spec else kind

    def link_label(kind: str) -> str:
        spec = schema.link_kinds.get(kind)
        return spec.label if spec else kind

    return entity_label, link_label


@users_app.command("add")
def users_add(
    username: str,
    role: str = typer.Option(..., "--role", help="researcher, reviewer or admin"),
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from this file."),
) -> None:
    """Add a user (prompts for the password unless --password-file is given)."""
    from workbench.store.users import add_user

    password = _read_password(password_file)
    open_database()
    with session() as s:
        run_guarded(add_user, s, cli_actor(), username, role, password)
    console.print(f"added {username} ({role})")


@users_app.command("list")
def users_list() -> None:
    """List users and roles."""
    from workbench.store.users import list_users

    open_database()
    with session() as s:
        users = run_guarded(list_users, s, cli_actor())
        table = Table()
        for col in ("user", "role", "active", "created"):
            table.add_column(col)
        for user in users:
            table.add_row(user.username, user.role, "yes" if user.active else "no", f"{user.created_at:%Y-%m-%d}")
    console.print(table)


@users_app.command("role")
def users_role(username: str,
               role: str = typer.Argument(..., help="researcher, reviewer or admin")) -> None:
    """Change a user's role."""
    from workbench.store.users import set_role

    open_database()
    with session() as s:
        run_guarded(set_role, s, cli_actor(), username, role)
    console.print(f"{username} is now {role}")


@users_app.command("token")
def users_token(username: str, label: str = typer.Option("cli", "--label")) -> None:
    """Create an API token for a user (for the JSON API and the Reconciliation service)."""
    from workbench.store.users import create_token

    open_database()
    with session() as s:
        token = run_guarded(create_token, s, cli_actor(), label, username)
    console.print("API token (shown once):")
    sys.stdout.write(token + "\n")


@users_app.command("tokens")
def users_tokens(username: str) -> None:
    """List a user's API tokens (id, label, created, last used, revoked); the tokens themselves are never shown."""
    from workbench.store.users import list_tokens

    open_database()
    with session() as s:
        rows = run_guarded(list_tokens, s, cli_actor(), username)
        table = Table(title=f"API tokens of {username}")
        for col in ("id", "label", "created", "last used", "status"):
            table.add_column(col)
        for row in rows:
            table.add_row(str(row.id), row.label, f"{row.created_at:%Y-%m-%d %H:%M}",
                          f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never",
                          "revoked" if row.revoked else "active")
    console.print(table if rows else f"{username} has no API tokens")


@users_app.command("revoke")
def users_revoke(
    username: str,
    token_id: int | None = typer.Option(None, "--id", help="The token's id (from `workbench users tokens NAME`)."),
    every: bool = typer.Option(False, "--all", help="Revoke all of the user's tokens."),
) -> None:
    """Revoke one API token of a user (--id), or all of them (--all)."""
    from workbench.store.users import revoke_token, revoke_tokens

    if (token_id is None) == (not every):
        fail("give --id ID (see `workbench users tokens NAME`) or --all", 2)
    open_database()
    with session() as s:
        if every:
            count = run_guarded(revoke_tokens, s, cli_actor(), username)
            message = f"revoked {count} token{'s' if count != 1 else ''} of {username}"
        else:
            row = run_guarded(revoke_token, s, cli_actor(), username, token_id)
            message = f"revoked token {row.id} ({row.label}) of {username}"
    console.print(message, highlight=False)


@users_app.command("password")
def users_password(
    username: str,
    password_file: Path | None = typer.Option(None, "--password-file", help="Read the password from this file."),
) -> None:
    """Set a user's password (prompts for it unless --password-file is given)."""
    from workbench.store.users import set_password

    password = _read_password(password_file)
    open_database()
    with session() as s:
        change = run_guarded(set_password, s, cli_actor(), username, password)
    console.print(f"password of {username} changed; {username} is signed out everywhere")
    if change.live_tokens:  # a reset after a leak must not leave the admin believing the account is shut
        count = change.live_tokens
        console.print(f"{username}'s {count} API token{' still works' if count == 1 else 's still work'} (a password "
                      f"change leaves tokens alone): revoke {'it' if count == 1 else 'them'} with "
                      f"`workbench users revoke {username} --all` if the old password may have leaked")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable a user: their sessions end and their API tokens are revoked for good (the last active admin is kept)."""
    count = _set_active(username, False)
    tokens = (f"revoked {count} API token{'' if count == 1 else 's'} (for good: enabling {username} again does not "
              f"bring {'it' if count == 1 else 'them'} back)" if count else "no API token to revoke")
    console.print(f"{username} is disabled and signed out everywhere; {tokens}")


@users_app.command("enable")
def users_enable(username: str) -> None:
    """Enable a disabled user again (API tokens revoked by the disable stay revoked)."""
    _set_active(username, True)
    console.print(f"{username} is enabled; API tokens revoked when {username} was disabled stay revoked: create a new "
                  f"one with `workbench users token {username}` if needed")


def _set_active(username: str, active: bool) -> int:
    """Disable or enable; how many API tokens a disable revoked."""
    from workbench.store.users import set_active

    open_database()
    with session() as s:
        return run_guarded(set_active, s, cli_actor(), username, active)


def _read_password(password_file: Path | None) -> str:
    if password_file is None:
        return typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        return password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        fail(f"cannot read {password_file}: {exc.strerror}", 2)
    except UnicodeDecodeError:
        fail(f"cannot read {password_file}: not UTF-8 text", 2)
    return ""


@audit_app.command("verify")
def audit_verify(
    anchor: str = typer.Option("", "--anchor", metavar="SEQ:HASH",
                               help="An entry's number and hash recorded earlier outside the database (the line "
                                    "this command prints): the log must still hold that entry with that hash."),
) -> None:
    """Walk the hash chain; exit 0 if intact, 1 naming the first broken entry. It ends with the head entry's
    number and hash: kept outside the database and given back with --anchor, it shows a log rewritten whole
    (every hash recomputed), which the chain alone cannot."""
    from workbench.store.audit import entry_hash_at, verify

    wanted: tuple[int, str] | None = None
    if anchor:
        seq_text, _, hash_text = anchor.partition(":")
        if not seq_text.strip().isdigit() or len(hash_text.strip()) != 64:
            fail(f"--anchor {escape(anchor)!r}: expected SEQ:HASH, an entry number and its 64-character hash, as "
                 "`workbench audit verify` prints them", 2)
        wanted = (int(seq_text), hash_text.strip().lower())
    open_database()
    with session() as s:
        try:
            count, broken = verify(s)
        except (ValueError, TypeError) as exc:  # JSON or a time stamp edited into something unreadable
            fail(f"audit chain broken: an entry no longer reads back, so it was edited outside the workbench "
                 f"({escape(str(exc))})")
        head = entry_hash_at(s, count) if count else None
        anchored = entry_hash_at(s, wanted[0]) if wanted else None
    if broken is not None:
        fail(f"audit chain broken at {broken} ({count} entries verified before it)")
    if wanted is not None and anchored != wanted[1]:
        found = "is missing" if anchored is None else f"has hash {anchored}"
        fail(f"audit log rewritten: entry {wanted[0]} {found}, not the hash recorded for it ({wanted[1]}); the chain "
             "verifies because its hashes were recomputed")
    console.print(f"audit chain intact: {count} entries" + (f"; entry {wanted[0]} matches its anchor" if wanted else ""))
    if head:
        console.print(f"head: {count}:{head} (keep this line outside the database; give it back with --anchor)",
                      markup=False, highlight=False)


def _register_plugins() -> None:
    for module_name in PLUGINS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        module.register(app, bench_app)


_register_plugins()


def main() -> None:
    """The console entry point: the app, with the failures no command foresees said in one line (exit 1)
    instead of a traceback: a SQLite database another process (a server's import, a restore) held locked past
    WORKBENCH_SQLITE_BUSY_SECONDS, and a data folder that cannot take a file."""
    from sqlalchemy.exc import OperationalError

    from workbench.sources.files import StorageError

    try:
        app()
    except OperationalError as exc:
        if "database is locked" not in str(exc.orig or exc):
            raise
        message = (f"the database is busy: another process (a server's import, a restore) held it locked for over "
                   f"{get_settings().sqlite_busy_seconds:g} s (WORKBENCH_SQLITE_BUSY_SECONDS), so this command's "
                   "change was not saved. Run it again when that process is done")
    except StorageError as exc:
        message = exc.strerror or str(exc)
    else:
        return
    # Outside the app, where typer.Exit (fail) is no exit but an exception: say it, and leave with 1.
    err.print(labelled("error:", "bold red", message), highlight=False)
    raise SystemExit(1)


if __name__ == "__main__":  # pragma: no cover
    app()
