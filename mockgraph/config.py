"""One settings object from command-line flags and environment variables (flags win).

Every setting is declared once in ``OPTIONS``: its flag, its env var, how to parse it and its
help. The CLI and the environment are both read from that table, so they cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

QUIRKS = ("subCode", "code200", "capitalChangeType", "noResource", "docsExamples", "legacyResource")


def _number(text: str, kind: type[int] | type[float], low: float, high: float, what: str) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"must be {what}, not {text!r}") from None
    if not low <= value <= high or value == float("inf"):
        raise ValueError(f"must be {what}, not {text!r}")
    return value


def parse_port(text: str) -> int:
    value: int = _number(text, int, 0, 65535, "a port number, 0 to 65535")
    return value


def parse_non_negative(text: str) -> float:
    value: float = _number(text, float, 0, float("inf"), "a number, 0 or more")
    return value


def parse_positive(text: str) -> float:
    value: float = _number(text, float, 1e-9, float("inf"), "a number more than 0")
    return value


def parse_count(text: str) -> int:
    value: int = _number(text, int, 1, float("inf"), "a whole number, 1 or more")
    return value


def parse_seed(text: str) -> int:
    value: int = _number(text, int, 0, 2**63, "a whole number, 0 or more")
    return value


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("", "0", "false", "no", "off"):
        return False
    raise ValueError("must be 1 or 0")


def parse_readable_file(text: str) -> str:
    """A file that exists and can be read now, so that a typo fails at start, not mid-test."""
    try:
        with open(text, "rb"):
            pass
    except OSError as error:
        raise ValueError(f"cannot read {text!r}: {error.strerror or error}") from None
    return text


def parse_appendable_file(text: str) -> str:
    """A file mockgraph can append to (created if missing), so that a bad path fails at
    start, not when the first entry is final."""
    try:
        with open(text, "a", encoding="utf-8"):
            pass
    except OSError as error:
        raise ValueError(f"cannot append to {text!r}: {error.strerror or error}") from None
    return text


def parse_http_url(text: str) -> str:
    """An absolute http or https URL."""
    parsed = urlsplit(text)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"must be an http:// or https:// URL, not {text!r}")
    return text


def parse_writable_folder(text: str) -> str:
    """A folder mockgraph can write to (created if missing), so that a bad path fails at
    start, not when the first file is due."""
    try:
        Path(text).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=text):
            pass
    except OSError as error:
        raise ValueError(f"cannot write to {text!r}: {error.strerror or error}") from None
    return text


def parse_bot(text: str) -> tuple[str, str]:
    identity, separator, url = text.partition("=")
    if not separator or not identity.strip() or not url.strip():
        raise ValueError(f"must be IDENTITY_ID=CALLBACK_URL, not {text!r}")
    return identity.strip(), url.strip()


def parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON: {error.msg} (column {error.colno}) in {text!r}") from None


def fault_spec(value: Any) -> Mapping[str, Any]:
    """A fault on Graph requests, as ``POST /_mock/faults`` takes it (decoded JSON)."""
    from mockgraph.calling.operations import ROUTED_OPERATIONS  # only when a fault is given
    from mockgraph.errors import BadRequest
    from mockgraph.faults import check

    if not isinstance(value, dict):
        raise ValueError(f"a fault is a JSON object, not {json.dumps(value)}")
    try:
        check(value, ROUTED_OPERATIONS)
    except BadRequest as error:
        raise ValueError(error.message) from None
    return value


def parse_tls(text: str) -> str:
    if text != "auto":
        raise ValueError(f"must be auto (or use --tls-cert and --tls-key), not {text!r}")
    return text


AUTH_MODES = ("lenient", "strict")


def parse_auth(text: str) -> str:
    if text not in AUTH_MODES:
        raise ValueError(f"must be lenient or strict, not {text!r}")
    return text


def app_spec(value: Any) -> Mapping[str, Any]:
    """An app registration, as ``PUT /_mock/apps/{clientId}`` takes it (decoded JSON)."""
    from mockgraph.identity.apps import app_option  # only when an app is given

    return app_option(value)


def parse_quirks(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in QUIRKS]
    if unknown:
        raise ValueError(f"unknown quirk {unknown[0]!r}; known: {', '.join(QUIRKS)}")
    return names


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    scenario_paths: tuple[str, ...] = field(default_factory=tuple)
    callback_url: str | None = None
    time_scale: float = 1.0
    step_mode: bool = False
    app_id: str = "00000000-0000-0000-0000-000000000b07"
    bot_name: str = "Calling Bot"  # the application's display name, as the create page shows
    tenant_id: str = "00000000-0000-0000-0000-0000000000a1"
    token_issuer: str = "https://api.botframework.com"
    signing_key: str | None = None
    delivery_timeout: float = 10.0
    delivery_attempts: int = 3
    retry_backoff: float = 0.2
    halt_on_failure: bool = False
    quirks: tuple[str, ...] = field(default_factory=tuple)
    grace_period: float = 5.0
    journal_limit: int = 10_000
    calls_limit: int = 10_000
    ring_timeout: float = 15.0
    keepalive_timeout: float = 2700.0  # Graph's 45 minutes; 0: calls never expire
    call_record_delay: float = 60.0  # seconds from a call's end to its record's filing
    allow_http_webhooks: bool = False  # subscriptions may name http URLs (Graph: https only)
    application_instance: bool = True
    bots: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    faults: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)  # set at start-up
    apps: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)  # registered at start-up
    token_lifetime: float = 3600.0  # seconds a token of the identity platform lasts
    auth: str = "lenient"  # strict: Graph requests need the identity platform's tokens
    random_seed: int | None = None
    recording: str | None = None  # the audio every recording downloads as
    control_token: str | None = None  # what /_mock asks of its callers, if anything
    journal_file: str | None = None  # where every final journal entry is appended
    tls_cert: str | None = None  # PEM certificate (chain): serve https
    tls_key: str | None = None  # PEM private key of tls_cert
    tls: str | None = None  # "auto": serve https with a local certificate authority's
    tls_dir: str | None = None  # where --tls auto keeps its authority (default: the cache)
    # Not a flag: a limit for the benchmarks' sake, declared here so it has one home.
    connections: int = 256  # open connections to bots at most, all bots together

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, skip: Iterable[str] = ()
    ) -> Settings:
        """Defaults, overridden by ``MOCKGRAPH_*`` variables, but those of the fields in
        ``skip`` (a flag gave them); a bad value raises ``ValueError`` naming the variable."""
        env = os.environ if env is None else env
        skipped = frozenset(skip)
        values: dict[str, Any] = {}
        for option in OPTIONS:
            if option.env in env and option.field not in skipped:
                try:
                    values[option.field] = option.from_env(env[option.env])
                except ValueError as error:
                    raise ValueError(f"{option.env}: {error}") from None
        return cls(**values)


@dataclass(frozen=True)
class Option:
    field: str
    flag: str
    env: str
    help: str
    parse: Callable[[str], Any] = str
    metavar: str | None = None
    # "value"; "switch" (a flag that turns it on); "off-switch" (a flag that turns it off, the
    # env var says 1 or 0); "paths" (repeatable, env joined by ':'); "list" (repeatable, env
    # joined by ','); "json-list" (repeatable, each flag one JSON value, env a JSON array;
    # ``parse`` takes the decoded value)
    kind: str = "value"
    # The docs' row (docs/reference/command-line.md is generated from these): what it does,
    # its default as a person reads it, and what the env var's value looks like, if special.
    doc: str = ""
    default_doc: str = "none"
    env_doc: str = ""

    def parse_flag(self, text: str) -> Any:
        """One flag's value (a repeatable flag's: one of them)."""
        return self.parse(parse_json(text)) if self.kind == "json-list" else self.parse(text)

    def from_env(self, text: str) -> Any:
        if self.kind == "paths":
            return tuple(path for path in text.split(":") if path)
        if self.kind == "list":
            return tuple(self.parse(item) for item in text.split(",") if item.strip())
        if self.kind == "json-list":
            items = parse_json(text)
            if not isinstance(items, list):
                raise ValueError(f"a JSON array is expected, not {text!r}")
            return tuple(self.parse(item) for item in items)
        if self.kind in ("switch", "off-switch"):
            return parse_bool(text)
        return self.parse(text)


OPTIONS = (
    Option(
        "host",
        "--host",
        "MOCKGRAPH_HOST",
        "address to listen on",
        doc="address to listen on",
        default_doc="`127.0.0.1`",
    ),
    Option(
        "port",
        "--port",
        "MOCKGRAPH_PORT",
        "port; 0 picks a free one",
        parse_port,
        doc="port; `0` picks a free one",
        default_doc="`8080`",
    ),
    Option(
        "scenario_paths",
        "--scenarios",
        "MOCKGRAPH_SCENARIOS",
        "scenario file or folder, repeatable, added to the built-ins (env: paths joined by ':')",
        metavar="PATH",
        kind="paths",
        doc=(
            "a scenario file, or a folder whose `*.yaml`/`*.yml` files are all loaded; repeatable. "
            "Added to the built-in library, which is always loaded."
        ),
        default_doc="none",
        env_doc="(paths joined by `:`)",
    ),
    Option(
        "callback_url",
        "--callback-url",
        "MOCKGRAPH_CALLBACK_URL",
        "bot notification URL for calls seeded without callbackUri",
        parse_http_url,
        metavar="URL",
        doc=(
            "the bot's notification URL for calls seeded without `callbackUri`; an `http://` or "
            "`https://` URL (anything else is refused at start, exit 2)"
        ),
        default_doc="none",
    ),
    Option(
        "time_scale",
        "--time-scale",
        "MOCKGRAPH_TIME_SCALE",
        "multiply every scenario pause; 0 collapses them",
        parse_non_negative,
        metavar="FACTOR",
        doc=(
            "multiplies every scenario pause; `0` collapses them all (fast suites); the ring "
            "time-out is scaled too, except by `0`"
        ),
        default_doc="`1`",
    ),
    Option(
        "step_mode",
        "--step",
        "MOCKGRAPH_STEP",
        "step mode: each notification waits for POST /_mock/calls/{id}/advance",
        kind="switch",
        doc="step mode: each notification, once due, waits for `POST /_mock/calls/{id}/advance`",
        default_doc="off",
    ),
    Option(
        "app_id",
        "--app-id",
        "MOCKGRAPH_APP_ID",
        "the bot's app id: the tokens' aud claim",
        metavar="ID",
        doc="the bot's app id: the `aud` claim of notification tokens",
        default_doc="`00000000-0000-0000-0000-000000000b07`",
    ),
    Option(
        "bot_name",
        "--bot-name",
        "MOCKGRAPH_BOT_NAME",
        "the bot's display name in rosters, incoming calls and a created call's source",
        metavar="NAME",
        doc=(
            "the bot's display name: its `application` identity in rosters, in an incoming call's "
            "`targets`, and in a created call's `source` (the create page's example names it "
            "`Calling Bot`; one capture of a P2P roster shows `28:<app id>`, which this flag can "
            "give)"
        ),
        default_doc="`Calling Bot`",
    ),
    Option(
        "tenant_id",
        "--tenant-id",
        "MOCKGRAPH_TENANT_ID",
        "tenant of calls seeded without tenantId: the tokens' tid claim",
        metavar="ID",
        doc="`tenantId` of calls seeded without one: the tokens' `tid`",
        default_doc="`00000000-0000-0000-0000-0000000000a1`",
    ),
    Option(
        "token_issuer",
        "--token-issuer",
        "MOCKGRAPH_TOKEN_ISSUER",
        "the tokens' iss claim",
        metavar="URL",
        doc="the tokens' `iss` (Graph also uses `https://graph.microsoft.com`)",
        default_doc="`https://api.botframework.com`",
    ),
    Option(
        "signing_key",
        "--signing-key",
        "MOCKGRAPH_SIGNING_KEY",
        "private JWK file that signs tokens; created there if missing (default: a new key)",
        metavar="FILE",
        doc=(
            "the RSA private key that signs tokens, PEM (PKCS#1 or PKCS#8) or JWK; a new one "
            "written there (as a JWK) if the file does not exist, so a CI cache can keep one key; "
            "a file with no usable key stops the start (exit 2)"
        ),
        default_doc="a new key per process",
    ),
    Option(
        "delivery_timeout",
        "--delivery-timeout",
        "MOCKGRAPH_DELIVERY_TIMEOUT",
        "seconds one delivery attempt may take (connect, send, reply)",
        parse_positive,
        metavar="SECONDS",
        doc=(
            "how long one delivery attempt may take: connecting, sending and the bot's reply (not "
            "the wait for a free connection)"
        ),
        default_doc="`10`",
    ),
    Option(
        "delivery_attempts",
        "--delivery-attempts",
        "MOCKGRAPH_DELIVERY_ATTEMPTS",
        "attempts per notification when the bot fails (5xx, no answer)",
        parse_count,
        metavar="N",
        doc="attempts per notification when the bot fails (5xx, 429, no connection, no answer)",
        default_doc="`3`",
    ),
    Option(
        "retry_backoff",
        "--retry-backoff",
        "MOCKGRAPH_RETRY_BACKOFF",
        "seconds before the first retry; doubles for each next one",
        parse_non_negative,
        metavar="SECONDS",
        doc="pause before the first retry; doubles before each next one",
        default_doc="`0.2`",
    ),
    Option(
        "halt_on_failure",
        "--halt-on-failure",
        "MOCKGRAPH_HALT_ON_FAILURE",
        "when a notification finally fails, drop the call's later ones",
        kind="switch",
        doc=(
            "when a notification finally fails, the call's later ones are not sent (journaled as "
            "cancelled) and its scenario stops"
        ),
        default_doc="off",
    ),
    Option(
        "quirks",
        "--quirks",
        "MOCKGRAPH_QUIRKS",
        f"Microsoft's example spellings for every notification: {', '.join(QUIRKS)}",
        parse_quirks,
        metavar="LIST",
        doc=(
            "Microsoft's example spellings in every notification (comma-separated, see [Faults and "
            "quirks](../reference/notifications.md#faults-and-quirks))"
        ),
        default_doc="none",
    ),
    Option(
        "grace_period",
        "--grace-period",
        "MOCKGRAPH_GRACE_PERIOD",
        "on SIGTERM, seconds to finish deliveries in flight",
        parse_non_negative,
        metavar="SECONDS",
        doc="on SIGTERM, how long deliveries in flight may take to finish",
        default_doc="`5`",
    ),
    Option(
        "calls_limit",
        "--calls-limit",
        "MOCKGRAPH_CALLS_LIMIT",
        "calls kept; past it the oldest ended calls are forgotten",
        parse_count,
        metavar="N",
        doc=(
            "calls kept; past it the oldest *ended* calls are forgotten (and counted), so a long "
            "run does not grow without end; calls not yet over are always kept"
        ),
        default_doc="`10000`",
    ),
    Option(
        "ring_timeout",
        "--ring-timeout",
        "MOCKGRAPH_RING_TIMEOUT",
        "seconds an incoming call rings before Graph ends it (per call: 'timeout')",
        parse_positive,
        metavar="SECONDS",
        doc="how long an incoming call rings before Graph ends it (per call: `timeout`)",
        default_doc="`15`",
    ),
    Option(
        "keepalive_timeout",
        "--keepalive-timeout",
        "MOCKGRAPH_KEEPALIVE_TIMEOUT",
        "seconds a call lives without a keepAlive before Graph ends it (408/8537); 0: never",
        parse_non_negative,
        metavar="SECONDS",
        doc=(
            "how long a call lives without a successful `keepAlive` before Graph ends it "
            "(`deleted`, terminated, 408/8537; see "
            "[keepAlive](../reference/graph-surface.md#keepalive-expiry)); scaled like the ring "
            "time-out; `0`: calls never expire"
        ),
        default_doc="`2700` (45 minutes, as Graph)",
    ),
    Option(
        "call_record_delay",
        "--call-record-delay",
        "MOCKGRAPH_CALL_RECORD_DELAY",
        "seconds from a call's end until its call record can be read; scaled like a pause",
        parse_non_negative,
        metavar="SECONDS",
        doc=(
            "how long after a call ends its [call record](../how-to/call-records.md) can be "
            "read (before, Graph's 404); a pause, scaled by the time scale: at `0`, at once"
        ),
        default_doc="`60`",
    ),
    Option(
        "allow_http_webhooks",
        "--allow-http-webhooks",
        "MOCKGRAPH_ALLOW_HTTP_WEBHOOKS",
        "subscriptions may name http notification URLs (Graph: https only)",
        kind="switch",
        doc=(
            "a [subscription](../how-to/subscriptions.md)'s `notificationUrl` and "
            "`lifecycleNotificationUrl` may be http; Graph refuses them (400), so a bot that "
            "relies on this fails against Graph"
        ),
        default_doc="off: https only, as Graph",
    ),
    Option(
        "application_instance",
        "--no-application-instance",
        "MOCKGRAPH_APPLICATION_INSTANCE",
        "the bot has no phone number: PSTN transfers fail (env: 0)",
        kind="off-switch",
        doc="the bot has no phone number: PSTN transfers are accepted, then fail (500/7000)",
        default_doc="the bot is one",
    ),
    Option(
        "bots",
        "--bot",
        "MOCKGRAPH_BOTS",
        "another bot: transfers to IDENTITY_ID ring it at URL; repeatable (env: joined by ',')",
        parse_bot,
        metavar="IDENTITY_ID=URL",
        kind="list",
        doc=(
            "another bot known to mockgraph: a transfer to that identity rings it at URL; "
            "repeatable"
        ),
        default_doc="none",
        env_doc="(`id=url` pairs joined by `,`)",
    ),
    Option(
        "faults",
        "--fault",
        "MOCKGRAPH_FAULTS",
        "a fault on Graph requests, as POST /_mock/faults takes it (JSON); repeatable, and set "
        "again by each reset (env: a JSON array)",
        fault_spec,
        metavar="JSON",
        kind="json-list",
        doc=(
            "a fault on Graph requests, in the JSON form `POST /_mock/faults` takes ([Making Graph "
            'fail](../how-to/make-graph-fail.md)), e.g. `--fault \'{"match": {"operation": '
            '"transfer"}, "status": 503, "every": 10}\'`; repeatable. Set again, counts and '
            "windows new, by each reset; `DELETE /_mock/faults` removes it until then. A bad one "
            "stops the start (exit 2), naming the field"
        ),
        default_doc="none",
        env_doc="(a JSON array of faults)",
    ),
    Option(
        "apps",
        "--app",
        "MOCKGRAPH_APPS",
        "an app the identity platform knows, as PUT /_mock/apps/{clientId} takes it (JSON: "
        "clientId, secret or certificate, roles); repeatable (env: a JSON array)",
        app_spec,
        metavar="JSON",
        kind="json-list",
        doc=(
            "an app the identity platform knows, as `PUT /_mock/apps/{clientId}` takes it ([Your "
            "bot's real credentials](../how-to/real-credentials.md)), e.g. `--app '{\"clientId\": "
            '"0a0a0a0a-1111-2222-3333-444444444444", "secret": "s3cret"}\'`; repeatable. A bad one '
            "(or a certificate file that cannot be read) stops the start (exit 2), naming the field"
        ),
        default_doc="none: any client gets a token",
        env_doc="(a JSON array of apps)",
    ),
    Option(
        "auth",
        "--auth",
        "MOCKGRAPH_AUTH",
        "lenient: any bearer token will do; strict: a token of the identity platform, "
        "unexpired, for Graph, with a permission that allows the operation",
        parse_auth,
        metavar="lenient|strict",
        doc=(
            "`strict`: Graph requests need a token of mockgraph's identity platform, unexpired, "
            "for Graph, with a permission that allows the operation (401 and 403 as Graph answers; "
            "see [Strict tokens](../how-to/real-credentials.md)); `lenient`: any bearer token will "
            "do"
        ),
        default_doc="`lenient`",
    ),
    Option(
        "token_lifetime",
        "--token-lifetime",
        "MOCKGRAPH_TOKEN_LIFETIME",
        "seconds a token of the identity platform lasts (expires_in)",
        parse_positive,
        metavar="SECONDS",
        doc=(
            "how long the identity platform's tokens last (`expires_in`); MSAL refreshes a token "
            "with less than 300 s left, so a lifetime a little over 300 s lets a test see refresh"
        ),
        default_doc="`3600`",
    ),
    Option(
        "random_seed",
        "--random-seed",
        "MOCKGRAPH_RANDOM_SEED",
        "seed of the random draws of jitter, so a run can be repeated (default: a new one)",
        parse_seed,
        metavar="N",
        doc="seeds the random draws of `jitter`, so a run with jitter can be repeated exactly",
        default_doc="a new one per process",
    ),
    Option(
        "recording",
        "--recording",
        "MOCKGRAPH_RECORDING",
        "audio file every finished recordResponse downloads as (default: a 1 s 16 kHz WAV)",
        parse_readable_file,
        metavar="FILE",
        doc=(
            "the audio a finished `recordResponse` downloads as; a file that cannot be read stops "
            "the start (exit 2)"
        ),
        default_doc="a 1 s, 16 kHz WAV made by mockgraph",
    ),
    Option(
        "control_token",
        "--control-token",
        "MOCKGRAPH_CONTROL_TOKEN",
        "/_mock requires 'Authorization: Bearer TOKEN' (health, OpenID configuration and keys "
        "stay open)",
        metavar="TOKEN",
        doc=(
            "`/_mock` requires `Authorization: Bearer TOKEN` (`401` otherwise); `/_mock/health`, "
            "the OpenID configuration, `/_mock/keys` and `/_mock/ca.pem` stay open, as bots read "
            "them. Listening beyond loopback (`--host 0.0.0.0`) without one prints a warning on "
            "stderr"
        ),
        default_doc="none: `/_mock` is open",
    ),
    Option(
        "journal_file",
        "--journal-file",
        "MOCKGRAPH_JOURNAL_FILE",
        "append every journal entry to PATH as a JSON line once it is final, flushed at once",
        parse_appendable_file,
        metavar="PATH",
        doc=(
            "every journal entry is appended to PATH as one JSON line (as `GET /_mock/journal` "
            "shows it) once it is final (a request once answered, a notification once delivered, "
            "failed, rejected, cancelled, skipped or dropped), and flushed at once: a CI job keeps "
            "the record as an artifact even after `kill -9`. The file keeps what `--journal-limit` "
            "drops; a path that cannot be appended to stops the start (exit 2)"
        ),
        default_doc="none",
    ),
    Option(
        "tls",
        "--tls",
        "MOCKGRAPH_TLS",
        "auto: serve https with a certificate of a local certificate authority, made once and "
        "kept (its file is printed on stderr and served at /_mock/ca.pem)",
        parse_tls,
        metavar="auto",
        doc=(
            "serve https with a certificate of a local certificate authority that mockgraph makes "
            "once and keeps in `--tls-dir` (reused, so a client trusts it once; the server "
            "certificate is made again near its end or for another `--host`); the authority's file "
            "is printed on stderr and served at `GET /_mock/ca.pem`. Not with `--tls-cert` (exit 2)"
        ),
        default_doc="none: http",
    ),
    Option(
        "tls_dir",
        "--tls-dir",
        "MOCKGRAPH_TLS_DIR",
        "where --tls auto keeps its authority and certificate (default: "
        "$XDG_CACHE_HOME/mockgraph/tls, else ~/.cache/mockgraph/tls)",
        metavar="FOLDER",
        doc=(
            "where `--tls auto` keeps `ca.pem`, `ca-key.pem`, `server.pem` and `server-key.pem` "
            "(keys readable by their owner only); a folder it cannot write stops the start "
            "(exit 2). mockgraph, as a client, trusts the `ca.pem` there besides the system's "
            "authorities, so a bot or [webhook](../how-to/subscriptions.md) served with a "
            "certificate it signed is reached over https with no set-up"
        ),
        default_doc="`$XDG_CACHE_HOME/mockgraph/tls`, else `~/.cache/mockgraph/tls`",
    ),
    Option(
        "tls_cert",
        "--tls-cert",
        "MOCKGRAPH_TLS_CERT",
        "serve https with this PEM certificate (chain); needs --tls-key",
        parse_readable_file,
        metavar="FILE",
        doc=(
            "serve https with this PEM certificate (or chain, the server's first); needs "
            "`--tls-key`. The ready line then says `https://`. Microsoft's JavaScript Graph client "
            "sends its token only over https (see [From Node.js](../how-to/node-bot.md))"
        ),
        default_doc="none: http",
    ),
    Option(
        "tls_key",
        "--tls-key",
        "MOCKGRAPH_TLS_KEY",
        "the PEM private key of --tls-cert, unencrypted",
        parse_readable_file,
        metavar="FILE",
        doc=(
            "the certificate's unencrypted PEM private key; one of the two without the other, or a "
            "pair that does not match, stops the start (exit 2)"
        ),
        default_doc="none",
    ),
    Option(
        "journal_limit",
        "--journal-limit",
        "MOCKGRAPH_JOURNAL_LIMIT",
        "journal entries kept; the oldest are dropped and counted",
        parse_count,
        metavar="N",
        doc=(
            "journal entries kept; the oldest are dropped and counted. A load test that reads "
            "no journal can keep a few: less memory for each request to reach, and 2 to 15 % "
            "more requests a second with `1` on the maintainers' machine (BENCHMARKS.md, issue 24)"
        ),
        default_doc="`10000`",
    ),
)
_FIELDS = {f.name for f in fields(Settings)}
assert all(option.field in _FIELDS for option in OPTIONS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add every option's flag. A flag not given is left out of the parsed namespace, so that
    ``from_arguments`` lays the given ones over the environment's settings, which only the
    command that takes these options reads."""
    defaults = Settings()
    for option in OPTIONS:
        default = getattr(defaults, option.field)
        shown = ":".join(default) if isinstance(default, tuple) else default
        text = (
            f"{option.help} [{option.env}, {shown!s}]"
            if shown not in (None, "")
            else (f"{option.help} [{option.env}]")
        )
        common: dict[str, Any] = {
            "dest": option.field,
            "default": argparse.SUPPRESS,
            "help": text.replace("%", "%%"),
        }
        if option.kind in ("switch", "off-switch"):
            action = "store_true" if option.kind == "switch" else "store_false"
            parser.add_argument(option.flag, action=action, **common)
        elif option.kind in ("paths", "list", "json-list"):
            parse = str if option.kind == "paths" else argument_type(option.parse_flag)
            parser.add_argument(
                option.flag, action="append", type=parse, metavar=option.metavar, **common
            )
        else:
            parser.add_argument(
                option.flag, type=argument_type(option.parse), metavar=option.metavar, **common
            )


def from_arguments(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> Settings:
    """The settings of ``env`` (default: the process's environment) with the flags that were
    given laid over them; a variable a flag overrides is not read at all, and repeated flags
    replace the variable's list."""
    given = {field: value for field, value in vars(args).items() if field in _FIELDS}
    base = Settings.from_env(env, skip=given)
    values: dict[str, Any] = {
        option.field: tuple(given[option.field])
        if option.kind in ("paths", "list", "json-list")
        else given[option.field]
        for option in OPTIONS
        if option.field in given
    }
    return replace(base, **values)


def argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """``parse`` with its ValueError as argparse's usage error (exit 2, the flag named)."""

    def checked(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return checked
