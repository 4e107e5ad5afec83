"""The composition root: settings in, the process's long-lived objects out.

`create_app`, `careers serve`, `careers worker`, `careers demo` and `careers outbox` all build
what they need here, so storage is opened one way and every client is made once per process.
The schema rule lives here too (`migrate_at_start`): processes that serve or work bring the
database up to this release's schema before they open it; the others only look.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from dataclasses import dataclass, field
from functools import partial

import httpx
import psycopg

from .accounts import Account
from .applications.attribution import Attribution
from .applications.delivery import Deliverer, DeliveryHealth, budget_window
from .applications.receipts import Receipts
from .applications.rules import LIMITS, UPLOAD_SLOTS, Limits
from .applications.slowbody import UploadGate
from .applications.spool import Spool
from .applications.store import Outbox
from .config import ConfigError, Settings, StorageSettings
from .db import database
from .db.database import Database, open_database
from .db.kept import KeptFiles
from .db.migrate import Migration
from .db.ratelimit import RateLimiter
from .forms.tokens import FormGuard, KeptTokens
from .jobs.board import Board, Part
from .jobs.catalogue import Catalogue
from .jobs.funnel import Tally
from .jobs.store import FeedStore, SharedFeedStore
from .mail.store import MailStore
from .mail.worker import MailWorker
from .metrics import Metrics
from .personio.feed import FeedClient
from .personio.recruiting import RecruitingClient, TokenProvider
from .personio.tokens import ClientCredentials, TokenEndpoint, client_key
from .store_errors import SchemaMismatch, StoreUnavailable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Storage:
    """The database (outbox, mail store, feed copies, rate limits) and the upload spool of
    one data directory. Uploads stream into the spool (upload.receive); the outbox takes them
    from there and owns their documents until they are delivered or purged."""

    database: Database
    spool: Spool

    @property
    def outbox(self) -> Outbox:
        return self.database.outbox

    @property
    def mail(self) -> MailStore:
        return self.database.mail

    def close(self) -> None:
        """Close this thread's database connections (others close with their threads) and
        PostgreSQL's pool."""
        self.database.close()


def open_storage(storage: StorageSettings, *, starting: bool = False) -> Storage:
    """Open the data directory and the database; an unusable one is a configuration error.
    `starting`: a process that serves or works is starting, so pending migrations are
    applied first (`migrate_at_start`); without it, a schema behind is refused."""
    try:
        feeds = FeedStore(storage.data_dir).directory
        spool = storage.data_dir / "spool"
        for directory in (
            storage.data_dir,
            feeds,
            spool,
            spool / "incoming",
            spool / "stored",
            spool / "kept",
        ):
            directory.mkdir(parents=True, exist_ok=True)
            # Candidates' data lives here: only our own user may look, whatever the umask
            # (SQLite, the spool and the feed copies create their files 0600 inside).
            directory.chmod(0o700)
    except OSError as exc:
        raise ConfigError([f"CAREERS_DATA_DIR: cannot use {storage.data_dir}: {exc}"]) from None
    if starting:
        migrate_at_start(storage)
    uploads = Spool(spool)
    try:
        return Storage(open_database(storage.database_url, spool=uploads), uploads)
    except STORE_ERRORS as exc:
        raise _config_error(exc, storage, "cannot use") from None


# What opening, upgrading or reading the database may raise at start-up.
STORE_ERRORS = (SchemaMismatch, StoreUnavailable, psycopg.ProgrammingError, OSError, sqlite3.Error)


def _config_error(exc: Exception, storage: StorageSettings, doing: str) -> ConfigError:
    """A store error at start-up as one line naming the setting to look at."""
    if isinstance(exc, SchemaMismatch):
        return ConfigError([f"CAREERS_DATABASE_URL: {exc}"])
    if isinstance(exc, StoreUnavailable):
        return ConfigError([f"CAREERS_DATABASE_URL: cannot reach the database: {_one_line(exc)}"])
    if isinstance(exc, psycopg.ProgrammingError):
        # Not libpq's words: they may quote the URL, password included.
        return ConfigError(
            [
                "CAREERS_DATABASE_URL: not a URL libpq can read (check the port and that"
                " special characters in the password are %-encoded)"
            ]
        )
    if doing == "cannot use":
        return ConfigError([f"CAREERS_DATA_DIR: cannot use {storage.data_dir}: {exc}"])
    return ConfigError([f"CAREERS_DATABASE_URL: {doing}: {exc}"])


def _one_line(exc: Exception) -> str:
    """The driver's message without its hints on further lines, and without our prefix."""
    text = " ".join(str(exc).split("\n")[0].split())
    return text.removeprefix("outbox database unavailable: ")


def migrate_at_start(storage: StorageSettings) -> None:
    """The start-up rule, in one place: with CAREERS_MIGRATE_ON_START (the default) apply
    pending forward migrations under the schema lock, so a restart after an upgrade of
    careers never stops at an old schema; a few milliseconds when the schema is current.
    Off, nothing changes here and opening the database refuses a schema behind. A schema
    ahead is refused either way (careers/db/migrate.py)."""
    if not storage.migrate_on_start:
        return
    version, applied = upgrade_storage(storage)
    for step in applied:
        log.info(
            "schema migration applied",
            extra={"version": step.version, "step": step.description},
        )
    if applied:
        log.info("schema current", extra={"version": version})


def upgrade_storage(storage: StorageSettings) -> tuple[int, list[Migration]]:
    """Start-up and `careers db upgrade`: carry the schema forward under the schema lock;
    (version now, steps applied)."""
    try:
        return database.upgrade(storage.database_url)
    except STORE_ERRORS as exc:
        raise _config_error(exc, storage, "cannot upgrade") from None


def schema_versions(storage: StorageSettings) -> tuple[int, int]:
    """(the database's schema version, the one this release needs), changing nothing: for
    `careers check`. 0 is an empty database, or a SQLite file not made yet (start-up makes
    it at the latest version). Raises StoreUnavailable when PostgreSQL cannot be reached,
    ConfigError when the database cannot be read or holds tables careers did not make."""
    try:
        return database.schema_version(storage.database_url)
    except StoreUnavailable:
        raise  # `careers check` says so in its own words
    except STORE_ERRORS as exc:
        raise _config_error(exc, storage, "cannot read the schema version") from None


@dataclass
class Services:
    """Everything a request or the delivery worker may need, created once per process."""

    settings: Settings
    storage: Storage
    feed_client: FeedClient
    catalogue: Catalogue
    metrics: Metrics
    guard: FormGuard
    kept_tokens: KeptTokens
    receipts: Receipts
    attribution: Attribution
    # The funnel's view counts (jobs/funnel.py); None: views are not counted (the benchmark's
    # "off" side).
    tally: Tally | None = None
    limits: Limits = LIMITS
    upload_gate: UploadGate = field(default_factory=lambda: UploadGate(UPLOAD_SLOTS))
    delivery_health: DeliveryHealth = field(default_factory=DeliveryHealth)
    # The other accounts' (CAREERS_ACCOUNTS_FILE), by key; see health_of.
    account_health: dict[str, DeliveryHealth] = field(default_factory=dict)

    @property
    def outbox(self) -> Outbox:
        return self.storage.outbox

    @property
    def spool(self) -> Spool:
        return self.storage.spool

    @property
    def kept(self) -> KeptFiles:
        """The kept files of refused posts (careers/db/kept.py)."""
        return self.storage.database.kept

    @property
    def mail(self) -> MailStore:
        return self.storage.mail

    def limiter(self, limit: int, window: float) -> RateLimiter:
        """`limit` hits per `window` seconds per key, shared by every process and host."""
        return self.storage.database.limiter(limit, window)

    def deliverer(
        self,
        stop: threading.Event | None = None,
        *,
        mailer: MailWorker | None = None,
        account: Account | None = None,
    ) -> Deliverer:
        """A delivery worker for one account (the first by default) with its own Recruiting
        API client and budget, counting into our metrics; with `mailer`, a parked
        application is announced to the operators at once."""
        settings = self.settings
        account = account or settings.accounts[0]
        client = recruiting_client(account, database=self.storage.database)
        return Deliverer(
            self.outbox,
            client,
            self.limiter(account.rate_limit.count, budget_window(account.rate_limit)),
            account=account.key,
            first=account is settings.accounts[0],
            stop=stop,
            on_outcome=self.metrics.delivered,
            on_parked=mailer.parked if mailer and self.settings.alerts_enabled else None,
            on_paused=partial(mailer.credentials_rejected, account=account.key)
            if mailer and self.settings.alerts_enabled
            else None,
            health=self.health_of(account),
        )

    def deliverers(
        self, stop: threading.Event | None = None, *, mailer: MailWorker | None = None
    ) -> list[Deliverer]:
        """One delivery worker per account that takes applications: each claims only its
        own account's, so one account's backlog or 429s never hold another's up."""
        return [
            self.deliverer(stop, mailer=mailer, account=account)
            for account in self.settings.accounts
            if not account.read_only
        ]

    def health_of(self, account: Account) -> DeliveryHealth:
        """What /readyz says of one account's delivery (the first's is `delivery_health`)."""
        if account is self.settings.accounts[0]:
            return self.delivery_health
        return self.account_health.setdefault(account.key, DeliveryHealth())

    def mail_worker(self, stop: threading.Event | None = None) -> MailWorker:
        """Sends queued mail and webhooks, runs the job-alert digest and the monitors."""
        return MailWorker(
            self.settings,
            self.mail,
            self.outbox,
            self.catalogue,
            funnel=self.storage.database.funnel,
            stop=stop,
            on_outcome=self.metrics.mailed,
        )

    @property
    def sends_mail(self) -> bool:
        """Job alerts, operator alerts or the weekly funnel report are configured: a mail
        worker has work."""
        return self.settings.mail_enabled or self.settings.alerts_enabled

    def start_workers(self) -> threading.Event:
        """Deliver (with Recruiting API credentials) and send mail (when configured) in
        daemon threads of this process, inside `serve` and `demo`; `careers worker` runs
        the same loops in the foreground. Setting the returned event stops both."""
        stop = threading.Event()
        mailer = self.mail_worker(stop) if self.sends_mail else None
        if mailer is not None:
            threading.Thread(target=mailer.run, name="careers-mail", daemon=True).start()
        for deliverer in self.deliverers(stop, mailer=mailer):
            name = f"careers-delivery-{deliverer.account}" if deliverer.account else ""
            threading.Thread(
                target=deliverer.run, name=name or "careers-delivery", daemon=True
            ).start()
        return stop

    def close(self) -> None:
        """Write the funnel counts not flushed yet; release the feed client's connections
        and this thread's database connection."""
        if self.tally is not None:
            self.tally.stop()
        self.catalogue.wait_idle()
        self.catalogue.close()
        self.storage.close()


def _feed_store(settings: Settings, storage: Storage, account: str = "") -> FeedStore:
    """The last good feed on disk; with PostgreSQL also in the database for every host.
    An account of CAREERS_ACCOUNTS_FILE keeps its copies apart, under its key."""
    copies = storage.database.feed_copies
    if copies is None:
        return FeedStore(settings.data_dir, account)
    return SharedFeedStore(settings.data_dir, copies, account)


def _account_catalogue(
    settings: Settings,
    storage: Storage,
    metrics: Metrics,
    account: Account,
    unlisted: frozenset[int],
) -> Catalogue:
    """One account's feed: its own client, copies, languages and fetch status."""
    return Catalogue(
        FeedClient(account.feed_url),
        _feed_store(settings, storage, account.key),
        account.languages,
        settings.feed_ttl,
        on_fetch=metrics.feed_fetched,
        unlisted=unlisted,
    )


def build_services(settings: Settings, *, starting: bool = True) -> Services:
    """One feed client, catalogue, outbox and metrics registry, wired in dependency order;
    `starting` (all but `careers check`) migrates first (`open_storage`)."""
    storage = open_storage(settings.storage, starting=starting)
    metrics = Metrics()
    unlisted = frozenset(filter(None, [settings.open_application_job]))
    feeds = [
        _account_catalogue(settings, storage, metrics, account, unlisted)
        for account in settings.accounts
    ]
    client = feeds[0].client
    catalogue: Catalogue | Board = feeds[0]
    if settings.accounts_file is not None:
        # Every account's feed on its own (jobs/board.py): one that fails never blanks another.
        parts = [
            Part(a.key, a.name, feed) for a, feed in zip(settings.accounts, feeds, strict=True)
        ]
        catalogue = Board(parts, settings.languages, unlisted=unlisted)
    services = Services(
        settings=settings,
        storage=storage,
        feed_client=client,
        catalogue=catalogue,
        metrics=metrics,
        guard=FormGuard(settings.secret_key),
        kept_tokens=KeptTokens(settings.secret_key),
        receipts=Receipts(settings.secret_key),
        attribution=Attribution(settings.secret_key),
        tally=Tally(storage.database.funnel),
    )
    services.upload_gate.on_change = metrics.uploads_reading.set
    return services


def recruiting_client(
    source: Settings | Account,
    *,
    timeout: httpx.Timeout | None = None,
    database: Database | None = None,
) -> RecruitingClient:
    """The Recruiting API client an account asks for (the settings' first account when
    given settings): v2 with an OAuth client's token when its client id and secret are set
    (v1's key is then not used), else v1 with the key. Every account has its own client
    and token provider, so its credentials never reach another's API. With `database`
    (delivery), an account's v2 token is the one every host and process of the deployment
    shares, sealed in the database, and the token endpoint's limit is counted there for all
    of them (db/tokens.py); without it (`careers check`, which must ask Personio itself),
    the token is this process's own (personio/tokens.py)."""
    account = source.accounts[0] if isinstance(source, Settings) else source
    if account.api_version == 2:
        tokens: TokenProvider
        if database is None:
            tokens = ClientCredentials(account.api_url, account.client_id, account.client_secret)
        else:
            client = client_key(account.api_url, account.client_id)
            endpoint = TokenEndpoint(
                account.api_url,
                account.client_id,
                account.client_secret,
                budget=database.token_budget(client),
            )
            tokens = database.shared_token(endpoint)
        return RecruitingClient(
            account.api_url, account.company_id, tokens, version=2, timeout=timeout
        )
    return RecruitingClient(
        account.api_url, account.company_id, account.recruiting_token, timeout=timeout
    )
