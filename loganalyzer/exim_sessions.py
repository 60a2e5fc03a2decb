"""Exim lines to SMTP sessions and message lifecycles (polars queries; a frame several branches read is built once).

Exim writes the same ``sessions`` and ``messages`` rows as Postfix, with the
same columns, so that the detectors read both alike. What differs is how the
lines of one connection are found: Postfix names its smtpd process on every
line, Exim by default names nothing that ties a rejection, a TLS error and an
arrival to one connection (``log-formats.md`` section 0). The key each session
was built with is its ``correlation``, the best the log offers, per line:

* ``exim-ci`` -- ``Ci=`` (``log_selector = +connection_id``): one id per connection.
* ``exim-pid`` -- the process id (``+pid``, or any syslog-wrapped Exim, whose tag
  carries it). The daemon forks one process per connection and that process
  writes every line of it, the ``<=`` of each message received included, so
  the lines of one pid are one connection, until a line that ends it, or a
  line naming another client (the pid was reused). The ``SMTP connection from``
  line (``+smtp_connection``) is the exception: the daemon writes it before it
  forks, with its own pid. It is paired, first come first served, with the
  next session of the same client address (and port) that begins after it.
* ``exim-ip-port`` -- the client address and source port (``+incoming_port``).
* ``exim-ip-time`` -- the client address alone: lines of one address form one
  session while they follow each other within :data:`IP_TIME_GAP` seconds.

Whatever the key, a connection ends where Exim says it ended: ``closed by
QUIT|EOF``, ``lost``, a timeout, ``dropped``, a synchronisation error, a
refused or rejected connection; only ``no MAIL in SMTP connection`` (written
as the process exits) may follow. After ``TLS error on connection`` Exim
answers nothing but QUIT, so only a closing line may follow it; without a
connection key a TLS error also starts a new session unless it comes right
after the ``SMTP connection from`` line: STARTTLS is the first thing a
connection does, and a sender that retries in plaintext must not look like
the connection that failed.

Sessions whose first and last lines are not Exim's connection lines are
``partial``: ``inferred`` when they have no connection line at all (Exim ran
without ``+smtp_connection``: start and end are those of the first and last
line that names the client), ``log-start``/``log-end`` when one of the two is
missing.

**Messages** are the lines of one message id on one host, up to ``Completed``
(or ``removed by``): the ``<=`` gives client, sender, size and Message-ID;
``=>``/``->``/``>>`` deliveries are ``sent``, ``==`` ``deferred`` and ``**``
``bounced``, Postfix's words.
"""

from __future__ import annotations

import polars as pl

from .aggregates import Masked, per_session, session_span
from .grammars import DAEMONS
from .grouping import grouped, in_seq_order, key_starts, looked_up, placed, replaced
from .schema import MESSAGES, SESSIONS
from .tables import align

__all__ = [
    "COPY_IDENTITY",
    "EXIM_DAEMONS",
    "EXIM_SESSION",
    "IP_PORT_GAP",
    "IP_TIME_GAP",
    "MESSAGE_KINDS",
    "PROCESS_GAP",
    "REFUSED",
    "REJECT_LOG_KINDS",
    "SESSION_KINDS",
    "build_messages",
    "build_session_lines",
    "build_sessions",
    "copied_seqs",
    "delivery_status",
    "is_exim",
    "keyed_links",
    "lifecycles",
    "refusal_class",
    "without_copies",
]

#: Daemon names (last component of the syslog tag) of Exim lines.
EXIM_DAEMONS = sorted(d for d, family in DAEMONS.items() if family == "exim")

#: Seconds of silence after which a client address starts a new session (``exim-ip-time``).
#: Within one connection the lines that name the client come back to back: EHLO, MAIL and
#: RCPT rejections, a TLS error, the ``<=`` at the end of DATA; a minute of silence from one
#: address is far more often a new connection (a retry, another message) than a slow client.
#: A long DATA transfer can separate a RCPT rejection from its arrival; bots that reconnect
#: within the minute are merged. Both are the price of having no connection key.
IP_TIME_GAP = 60
#: ... with the source port known (``exim-ip-port``): a port is reused by the same address only
#: after thousands of other connections; ten minutes outlast Exim's 5-minute smtp_receive_timeout.
IP_PORT_GAP = 600
#: ... with a process or connection id: only pid reuse ends a session this way.
PROCESS_GAP = 3600

#: Kinds of Exim lines that name the client of an SMTP connection (lines without a client
#: address, such as local ``U=user`` submissions, are never part of a session).
SESSION_KINDS = [
    "connect", "disconnect", "session-error", "reject", "arrival", "tls-error", "protocol-error", "sync-error",
    "dropped", "no-mail", "incomplete-transaction", "sasl-failure", "sender-verify-fail", "acl-warning",
    "vrfy-failed", "auth-ignored", "etrn", "hostname-mismatch", "no-ptr",
]  # fmt: skip
#: Lines after which the connection is over (``reject``/``dropped`` lines count when they end it).
_CLOSING = ["disconnect", "session-error", "dropped", "sync-error"]

#: ``action`` of an Exim line that refused the client something.
REFUSED = ["rejected", "temporarily rejected", "refused", "temporarily refused", "dropped"]
#: ... of which the temporary ones: a 4xx (greylisting, rate limits).
_TEMPORARY = [a for a in REFUSED if a.startswith("temporarily ")]
#: Stages Exim writes for a refusal at end of data (the DATA command itself was accepted).
_AFTER_DATA = ["after DATA", "after DATA PRDR"]
#: SMTP verbs a stage or a last command is named by; anything else is ``UNKNOWN``, as in Postfix.
_VERB = (
    r"(?i)^\s*(HELO|EHLO|MAIL|RCPT|DATA|BDAT|RSET|NOOP|VRFY|EXPN|ETRN|QUIT|AUTH|STARTTLS|HELP|ATRN|XCLIENT)"
    r"(?:[ :]|$)"
)
#: A mail header line (``Subject: ...``): message content, when Exim reads it as a command.
_HEADER = r"^[A-Za-z][A-Za-z0-9-]*: "
#: Protocol labels of ``<=`` (smtp_in.c): the ``s`` after ``(e)smtp`` and the 4.99 ``ssmtp`` forms mean TLS.
_TLS_PROTOCOLS = ["smtps", "esmtps", "esmtpsa", "ssmtp", "essmtp", "essmtpa"]
_PLAIN_PROTOCOLS = ["smtp", "esmtp", "esmtpa"]


def is_exim(daemon: pl.Expr) -> pl.Expr:
    """Whether a line was written by Exim (never null)."""
    return daemon.is_in(EXIM_DAEMONS).fill_null(False)


def refusal_class(action: pl.Expr, stage: pl.Expr | None = None) -> pl.Expr:
    """4 or 5 for an Exim refusal, which logs no reply code of its own; else null.

    ``temporarily rejected``/``refused`` is a 4xx (greylisting, rate limits), the
    other refusals a 5xx -- except the daemon's ``Connection from .. refused``
    (stage ``Connection``, daemon.c), which answers ``421`` (too many connections).
    """
    # compared as they are: a categorical is compared by its codes, far cheaper than as text
    temporary = action.is_in(_TEMPORARY)
    if stage is not None:
        temporary = temporary | stage.eq_missing("Connection")
    return pl.when(action.is_in(REFUSED)).then(pl.when(temporary).then(4).otherwise(5)).cast(pl.Int16)


def delivery_status(status: pl.Expr, action: pl.Expr) -> pl.Expr:
    """The delivery status in Postfix's words, for any delivery line.

    Exim says what happened with the line's flag: ``=>``, ``->`` and ``>>``
    (cutthrough) are ``sent``, ``==`` is ``deferred``, ``**`` is ``bounced``;
    a Postfix line keeps its ``status=``.
    """
    return (
        pl.when(action.is_in(["=>", "->", ">>"]))
        .then(pl.lit("sent"))
        .when(action == "==")
        .then(pl.lit("deferred"))
        .when(action == "**")
        .then(pl.lit("bounced"))
        .otherwise(status.cast(pl.String))
    )


def _verb(command: pl.Expr) -> pl.Expr:
    """The SMTP verb a command starts with, ``UNKNOWN`` for anything else (null stays null)."""
    verb = command.str.extract(_VERB, 1).str.to_uppercase()
    return pl.when(command.is_not_null()).then(verb.fill_null("UNKNOWN"))


# --- session index ------------------------------------------------------------------------


def _roles() -> list[pl.Expr]:
    """Per line: does it open, close, end (``no MAIL``) or doom (TLS error) its connection."""
    kind, stage, action = pl.col("kind"), pl.col("stage"), pl.col("action")  # categorical: compared as codes
    # the daemon refusing a connection before any process served it: opens and closes at once
    daemon_refusal = (kind == "reject") & stage.eq_missing("Connection")
    connection_refused = (kind == "reject") & (
        stage.is_in(["connection", "Connection"]).fill_null(False) | action.eq_missing("dropped")
    )
    return [
        ((kind == "connect") | daemon_refusal).alias("_open"),
        (kind.is_in(_CLOSING) | connection_refused).alias("_close"),
        (kind == "no-mail").alias("_tail"),
        (kind == "tls-error").alias("_doom"),
        ((kind == "connect") | daemon_refusal).alias("_daemon"),
    ]


def _cut(
    rows: pl.LazyFrame,
    keys: list[str],
    *,
    gap: int,
    doom_starts: bool,
    client_changes: bool,
    keep: tuple[str, ...] = (),
) -> pl.DataFrame:
    """(_row, seq, _session, *keep) for rows of one correlation, ``_session`` the provisional id of each
    row's session: see the module doc for the rules. The rows come in key order."""
    # only what the cut reads or keeps is filtered and moved into key order: the rest of each row stays
    # where it is, found again by its ``_row``
    client = ["client_ip"] if client_changes else []
    needed = list(dict.fromkeys(["_row", "seq", "ts", *keys, *_ROLES, *client, *keep]))
    in_order = grouped(rows.select(needed), keys, by_time=True)
    new_key = key_starts()

    def prev(c: str) -> pl.Expr:
        return pl.col(c).shift(1).fill_null(False)

    gap_seconds = (pl.col("ts") - pl.col("ts").shift(1)).dt.total_seconds()
    new = (
        new_key
        | pl.col("_open")
        | prev("_tail")
        | (prev("_close") & ~pl.col("_tail"))
        | (prev("_doom") & ~(pl.col("_close") | pl.col("_tail")))
        | (gap_seconds > gap).fill_null(False)
    )
    if doom_starts:
        new = new | (pl.col("_doom") & ~prev("_open"))
    if client_changes:
        new = new | (pl.col("client_ip") != pl.col("client_ip").shift(1)).fill_null(False)
    # segments are contiguous and numbered upwards: the smallest seq of each is a running minimum
    # over seqs pushed down by each new segment, read at the segment's last row
    push = pl.col("_segment").cast(pl.Int64) * (1 << 40)
    running = (pl.col("seq") - push).cum_min() + push
    last = pl.col("_segment") != pl.col("_segment").shift(-1)
    return (
        in_order.lazy()
        .with_columns(new.cum_sum().alias("_segment"))
        .with_columns(pl.when(last.fill_null(True)).then(running).backward_fill().alias("_session"))
        .select("_row", "seq", "_session", *keep)
        .collect()
    )


#: The columns of :func:`_roles` a cut reads.
_ROLES = ["_open", "_close", "_tail", "_doom"]
#: What ties a daemon's connection line to the process that served it.
_PAIR_KEY = ["host", "client_ip", "client_port"]


def _pair_connects(connects: pl.LazyFrame, sessions: pl.DataFrame) -> pl.DataFrame:
    """(seq, _session) of the daemon's connection lines, paired with the sessions of their processes.

    Per (host, client address, port), the k-th session that had a connection
    line before it takes the k-th such line, first come first served. A session
    that began before the log did takes none; a connection line left over (its
    process wrote nothing yet) keeps no session. Usually each connection line
    is followed by its own session before the next line of the same address
    comes, and then every line simply takes the first session after it
    (:func:`_next_sessions`); only when two lines reach for one session (or two
    keys share a hash there) are the lines counted (:func:`_first_come_first_served`).
    A session takes one line at most.
    """
    starts = _session_starts(sessions)
    lines = connects.select(*_PAIR_KEY, "seq").collect()
    paired = _next_sessions(lines, starts)
    if paired is not None:
        taken = paired.get_column("_session").drop_nulls()
        if taken.n_unique() == len(taken):
            return paired
    return _first_come_first_served(lines, starts).collect()


def _session_starts(sessions: pl.DataFrame) -> pl.DataFrame:
    """(seq, host, client_ip, client_port, _session) per session of a process: where it starts (its
    id, the smallest seq of its lines), its host and address, and the first port its lines name.

    ``sessions`` is a cut of the ``exim-pid`` lines (:func:`_cut`): a session's rows are together,
    with one host (part of the key) and one address (a new one starts a new session), so all
    but the port are those of the row where ``_session`` changes. Faster than a group_by on
    ``_session`` (0.01 against 0.03 s for the 220k sessions of the 1.27M-line benchmark log).
    """
    session, port = pl.col("_session"), pl.col("client_port")
    # the session of the next row (this one included) that names a port; its port is this one's
    # if that is still this session
    next_named = pl.when(port.is_not_null()).then(session).backward_fill()
    return (
        sessions.lazy()
        .with_columns(pl.when(next_named == session).then(port.backward_fill()).alias("_port"))
        .filter(session.ne_missing(session.shift(1)))
        .select(session.alias("seq"), "host", "client_ip", pl.col("_port").alias("client_port"), "_session")
        .collect()
    )


def _pair_key() -> pl.Expr:
    """``_k``: one integer for a row's (host, client address, port), nulls included (a hash: two keys may share it)."""
    return pl.struct(pl.col("host").to_physical(), "client_ip", "client_port").hash().alias("_k")


def _next_sessions(lines: pl.DataFrame, starts: pl.DataFrame) -> pl.DataFrame | None:
    """(seq, _session): each connection line with the first session of its address that starts after it.

    The same pairs as first come first served when no two lines name one
    session: a line is then always taken before the next one arrives. The
    key is matched as one hash (:func:`_pair_key`; by its three columns, one
    of them text and two filled where null, the join took 0.1 s for the
    218,000 lines of the Exim benchmark log, by the hash 0.07): None when a
    line met a session of another key with the same hash, which may then
    have hidden the right one.
    """
    later = starts.select(
        _pair_key(), pl.col("seq").alias("_start"), "_session", *(pl.col(k).alias(f"_start_{k}") for k in _PAIR_KEY)
    ).sort("_start")
    paired = (
        lines.with_columns(_pair_key())
        .sort("seq")
        .join_asof(later, left_on="seq", right_on="_start", by="_k", strategy="forward", check_sortedness=False)
    )
    same = pl.all_horizontal(pl.col(k).eq_missing(pl.col(f"_start_{k}")) for k in _PAIR_KEY)
    if paired.select((pl.col("_session").is_not_null() & ~same).any()).item():
        return None
    return paired.select("seq", "_session")


def _first_come_first_served(lines: pl.DataFrame, starts: pl.DataFrame) -> pl.LazyFrame:
    """(seq, _session) of the connection lines, counted per address: see :func:`_pair_connects`.

    With ``c_i`` connection lines before the i-th session of an address, the
    lines taken after i sessions are ``i + min(0, min_{j<=i}(c_j - j))``, and
    the i-th session takes one when that count grew.
    """
    key = _PAIR_KEY
    both = pl.concat(
        [
            lines.lazy().select(*key, "seq", pl.lit(True).alias("_c"), pl.lit(None, dtype=pl.Int64).alias("_session")),
            starts.lazy().select(*key, "seq", pl.lit(False).alias("_c"), "_session"),
        ],
        how="vertical_relaxed",
    )
    keyed = grouped(both, key, by_time=False).select("_key", "seq", "_c", "_session").lazy()
    # grouped by key: running sums per key are global ones minus their value where the key starts,
    # and a running minimum per key is a global one over values pushed down by each new key
    c = pl.col("_c").cast(pl.Int64)
    new_key = key_starts()
    keyed = keyed.with_columns(new_key.alias("_new"), new_key.cast(pl.Int64).cum_sum().alias("_g"))

    def per_key_cum_sum(x: pl.Expr) -> pl.Expr:
        total = x.cum_sum()
        return total - pl.when(pl.col("_new")).then(total - x).forward_fill()

    keyed = keyed.with_columns(per_key_cum_sum(c).alias("_c_before"), per_key_cum_sum(1 - c).alias("_s_rank"))
    push = pl.col("_g") * (1 << 40)  # more than any count of lines
    surplus = pl.col("_c_before") - pl.col("_s_rank")
    taken = (
        keyed.filter(~pl.col("_c"))
        .with_columns(
            (pl.col("_s_rank") + pl.min_horizontal(pl.lit(0), (surplus - push).cum_min() + push)).alias("_rank")
        )
        .filter(
            pl.col("_rank") > pl.when(pl.col("_g") == pl.col("_g").shift(1)).then(pl.col("_rank").shift(1)).otherwise(0)
        )
        .select("_key", "_rank", "_session")
    )
    waiting = keyed.filter(pl.col("_c")).select("_key", "seq", pl.col("_c_before").alias("_rank"))
    return waiting.join(taken, on=["_key", "_rank"], how="left").select("seq", "_session")


#: Kinds of lines Exim writes to its reject log as well as its main log.
REJECT_LOG_KINDS = ["reject", "sender-verify-fail", "recipient-verify-fail"]
#: What makes two such lines the same event, besides host, pid and time.
COPY_IDENTITY = ["kind", "client_ip", "client_port", "stage", "action", "sender", "recipient", "reason", "details"]


def copied_seqs(rejections: pl.LazyFrame) -> pl.Series:
    """The seqs of Exim rejections that copy an earlier one: same host, pid, time and :data:`COPY_IDENTITY`.

    Exim writes a rejection to its main and its reject log; both files read
    together (``loganalyzer scan /var/log/exim4/``), or syslog with
    ``syslog_duplication`` (the default), give every rejection twice, which
    would look like a retry within the same second. Only :data:`REJECT_LOG_KINDS`
    lines are looked at, so ``rejections`` may be any events that hold them;
    their wide text columns are read here alone, not with every line they are
    then taken out of (:func:`without_copies`).

    A read holds copies only through syslog (whose lines name the host that
    logged them; Exim's own files name none) or from more than one file. One
    of Exim's own files alone, the usual main log, is not searched: a client
    that repeats a RCPT within a second there is no copy (the benchmark log
    has one such).
    """
    exim = rejections.filter(pl.col("kind").is_in(REJECT_LOG_KINDS) & is_exim(pl.col("daemon")))
    where = exim.select(pl.col("host").is_not_null().any(), pl.col("source").n_unique()).collect()
    if not where.item(0, 0) and where.item(0, 1) <= 1:
        return pl.Series("seq", [], dtype=pl.Int64)
    identity = ["host", "pid", "ts", *COPY_IDENTITY]
    # most rejections are their process's only one in their second: found by cheap columns, before any text is hashed
    same_second = pl.len().over("host", "pid", "ts", "kind") > 1
    return (
        exim.select("seq", *identity)
        .filter(same_second)
        .sort("seq")
        .filter(~pl.struct(identity).is_first_distinct())
        .collect()
        .get_column("seq")
    )


def without_copies(rows: pl.LazyFrame, copies: pl.Series) -> pl.LazyFrame:
    """``rows`` minus the lines whose seqs are ``copies`` (:func:`copied_seqs`); usually there are none."""
    return rows.filter(~pl.col("seq").is_in(copies.implode())) if len(copies) else rows


#: How each line found its session while the index is built: an enum, so that the rows carry a byte, not text
#: (the index gives it as text, like Postfix's).
_CORRELATIONS = pl.Enum(["exim-ci", "exim-pid", "pair", "exim-ip-port", "exim-ip-time"])


def _correlation(name: str) -> pl.Expr:
    return pl.lit(name, dtype=_CORRELATIONS)


def build_session_lines(lines: pl.LazyFrame, rejections: pl.LazyFrame) -> pl.DataFrame:
    """The session index of Exim lines, in seq order: the columns of :func:`loganalyzer.sessions.build_session_lines`,
    but for the lines' time, file and line number (null: :func:`build_sessions` reads them with the lines).

    Of ``lines`` only the :data:`SESSION_KINDS` are read, of ``rejections`` only
    the :data:`REJECT_LOG_KINDS` (both may be every event; less is read faster).
    ``segment``/``last_segment`` (Postfix's connect counting) are null; the
    session id is the seq of its first line.
    """
    kind = pl.col("kind")
    found = lines.filter(is_exim(pl.col("daemon")) & kind.is_in(SESSION_KINDS) & pl.col("client_ip").is_not_null())
    # (not the lines' file and number: the sessions read those with the rest of each line, see below)
    narrow = ["seq", "ts", "host", "pid", "connection_id", "kind", "client_ip", "client_port", "stage", "action"]
    # the roles are worked out as the rows are read (they come out as a few booleans)
    read = (
        without_copies(found.select(narrow), copied_seqs(rejections))
        .with_columns(_roles())
        .drop("stage", "action")
        .collect()
    )
    # a host logs pids when any line its processes wrote (not the daemon) has one: the few such hosts,
    # found apart (a window over every row took 0.05 s more on the benchmark log)
    pid_hosts = read.lazy().filter(pl.col("pid").is_not_null() & ~pl.col("_daemon")).select(pl.col("host").unique())
    pid_host = pl.col("host").is_in(pid_hosts.collect().to_series().implode(), nulls_equal=True)
    mode = (
        pl.when(pl.col("connection_id").is_not_null())
        .then(_correlation("exim-ci"))
        .when(pid_host & pl.col("pid").is_not_null() & ~pl.col("_daemon"))
        .then(_correlation("exim-pid"))
        .when(pid_host & (kind == "connect"))
        .then(_correlation("pair"))
        .when(pl.col("client_port").is_not_null())
        .then(_correlation("exim-ip-port"))
        .otherwise(_correlation("exim-ip-time"))
    )
    # every correlation below reads these rows: build them once, not once per branch; ``_row`` finds each again
    rows = read.with_columns(mode.alias("correlation"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"))
    del read
    on = pl.col("correlation")
    by = rows.lazy()
    pid = _cut(by.filter(on == "exim-pid"), ["host", "pid"], gap=PROCESS_GAP, doom_starts=False, client_changes=True,
               keep=tuple(_PAIR_KEY))  # fmt: skip
    connects = by.filter(on == "pair")
    paired = _pair_connects(connects, pid).drop_nulls("_session")
    # a connection line comes before the session it was paired with, which is named after it from now on;
    # a line nobody took is a session of its own (its process wrote nothing in this log)
    renamed = replaced(pid.get_column("_session"), paired.get_column("_session"), paired.get_column("seq"))
    cuts = [
        _cut(by.filter(on == "exim-ci"), ["host", "connection_id"], gap=PROCESS_GAP, doom_starts=False,
             client_changes=True),
        pid.select("_row", renamed),
        connects.select("_row", pl.col("seq").alias("_session")).collect(),
        _cut(by.filter(on == "exim-ip-port"), ["host", "client_ip", "client_port"], gap=IP_PORT_GAP,
             doom_starts=False, client_changes=False),
        _cut(by.filter(on == "exim-ip-time"), ["host", "client_ip"], gap=IP_TIME_GAP, doom_starts=True,
             client_changes=False),
    ]  # fmt: skip
    del pid, paired
    # every row has one correlation, so one session: put back in the rows' order, where the rest of each row is
    session = pl.concat([c.select("_row", "_session") for c in cuts], how="vertical")
    del cuts
    ids = placed(session.get_column("_row"), session.get_column("_session").alias("session_id"), rows.height)
    # the daemon's connection lines, paired or not, are exim-pid lines, as the process lines they go with
    correlation = (
        pl.when(on == "pair").then(_correlation("exim-pid")).otherwise(on).cast(pl.Categorical).alias("correlation")
    )
    columns = rows.select("seq", "kind", ids, correlation).get_columns()
    del rows, by, connects, session, ids
    # only seq, kind and session are put in seq order: Exim's sessions read each line's time, file and line
    # number from the events, with its other columns
    return in_seq_order(columns).select(
        "seq", pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("ts"), "kind",
        pl.lit(None, dtype=pl.Categorical).alias("source"), pl.lit(None, dtype=pl.Int64).alias("line_no"),
        "session_id", pl.lit(None, dtype=pl.Int32).alias("segment"), pl.lit(None, dtype=pl.Int32).alias("last_segment"),
        pl.lit("exim", pl.Categorical).alias("daemon"), "correlation",
    )  # fmt: skip


# --- sessions -------------------------------------------------------------------------------

#: Columns of every session line the sessions read: categoricals and the client's names, cheap to carry.
_COLUMNS = ["host", "program", "pid", "kind", "client_name", "client_ip", "client_port", "helo", "action", "stage",
            "proto", "tls_protocol", "tls_cipher", "tls_error", "end_reason"]  # fmt: skip
#: Kinds whose free text says how a session ended, what it did wrong or how many recipients it had:
#: a few percent of the lines, read apart so that no text function runs on the others.
_TEXT_KINDS = ["session-error", "dropped", "sync-error", "protocol-error", "incomplete-transaction"]
#: ... of which the kinds whose ``reason`` the expressions search.
_SEARCHED = ["session-error", "dropped", "sync-error", "protocol-error"]


def _text_details() -> Masked:
    """What the lines of :data:`_TEXT_KINDS` tell of their session, read from those lines alone.

    Counts that other lines add to (accepted RCPTs, refused DATA) are named
    ``_text_*`` and summed with them after the join; the end of the session
    comes with its seq, to be weighed against a disconnect line's.
    """
    kind = pl.col("kind")
    # the free text of the kinds whose reason is searched (empty for the others)
    reason = pl.when(kind.is_in(_SEARCHED)).then(pl.col("reason")).fill_null("")
    lost_in_data = (kind == "session-error") & (
        reason.str.contains("message data") | pl.col("end_reason").eq_missing("data timeout")
    )
    data_protocol_error = (kind == "protocol-error") & _verb(pl.col("command")).is_in(["DATA", "BDAT"])
    sync_verb = _verb(pl.col("command").str.extract(r'"(.*)"', 1))
    data_sync_error = (kind == "sync-error") & sync_verb.is_in(["DATA", "BDAT"])
    # Exim reads content sent after a refused DATA as commands and drops the client; C= ends with the DATA
    dropped_after_data = (kind == "dropped") & reason.str.contains(r"C=(?:[A-Za-z]+,)*(?:DATA|BDAT)\)?\s*$")
    last_command = reason.str.extract(r'last (?:command )?was "(.*)"', 1)
    # ... a header line read as a command is message content (after MAIL and RCPT, not an HTTP probe's)
    content = ((kind == "protocol-error") & pl.col("command").str.contains(_HEADER)) | (
        (kind == "dropped") & last_command.str.contains(_HEADER)
    )
    # lines that prove at least one RCPT was accepted: DATA got as far as the predata ACL or beyond
    listed = (
        pl.when(kind == "incomplete-transaction").then(pl.col("recipient")).str.strip_chars().str.split(" ").list.len()
    )
    rcpt_ok = (
        pl.when(kind == "incomplete-transaction")
        .then(pl.when(pl.col("recipient").str.strip_chars().str.len_chars() > 0).then(listed).otherwise(0))
        .when(lost_in_data | data_sync_error)
        .then(1)
        .otherwise(0)
    )
    end_reason = (
        pl.when(kind == "session-error")
        .then(
            pl.when(pl.col("end_reason").cast(pl.String).str.ends_with("timeout"))
            .then(pl.lit("timeout"))
            .otherwise(pl.lit("lost connection"))
        )
        .when((kind == "dropped") & reason.str.starts_with("too many"))
        .then(pl.lit("too many errors"))
    )
    end_stage = (
        pl.when(kind == "session-error")
        .then(
            pl.when(lost_in_data)
            .then(pl.lit("DATA"))
            .when(reason.str.contains("final dot"))
            .then(pl.lit("END-OF-MESSAGE"))
        )
        .when(kind == "dropped")
        .then(_verb(last_command))
    )
    greeting = reason.str.starts_with("input sent without waiting for greeting")
    return Masked(
        firsts={
            "_end_text": end_reason,
            "_end_text_seq": pl.when(end_reason.is_not_null()).then(pl.col("seq")),
            "end_stage": end_stage,
            "pipelining_stage": pl.when(kind == "sync-error").then(
                pl.when(greeting).then(pl.lit("CONNECT")).otherwise(sync_verb)
            ),
            "pipelining_input": pl.when(kind == "sync-error").then(pl.col("details").str.extract(r'input="(.*)"', 1)),
        },
        flags={"_content_after_data": dropped_after_data | content.fill_null(False)},
        counts={
            "_text_rcpt_ok": rcpt_ok,
            "_text_data_refused": lost_in_data | data_protocol_error | data_sync_error,
            "_unknown": (kind == "protocol-error")
            & pl.col("severity").eq_missing("SMTP syntax error")
            & reason.str.starts_with("unrecognized command"),
        },
    )


def build_sessions(events: pl.LazyFrame, lines: pl.LazyFrame) -> pl.LazyFrame:
    """One row per Exim SMTP connection (schema :data:`~loganalyzer.schema.SESSIONS`).

    ``lines`` is the Exim part of the session index, in seq order (as the index
    is). Exim has no disconnect statistics: the command pairs it can support
    are counted from the lines that show a command's outcome (a lower bound,
    see the ``cmd_*`` docs), the end of the session from the line that ended
    it, improper pipelining from its synchronisation errors.

    Every line gives the session its client, times, TLS and refusal counts;
    the free text of the few lines that carry more (:data:`_TEXT_KINDS`, the
    refusals, the message ids) is read from those lines alone and joined per
    session: text functions and wide text columns over every line cost more
    than the rest of the build together.
    """
    # categorical columns are compared as they are (by their codes), cast to text only for text functions
    kind, stage, action, proto = pl.col("kind"), pl.col("stage"), pl.col("action"), pl.col("proto")
    exim = events.filter(is_exim(pl.col("daemon")) & kind.is_in(SESSION_KINDS))
    rows = (
        exim.select("seq", "ts", "source", "line_no", *_COLUMNS)
        .join(
            lines.select("seq", "session_id", "correlation"),
            on="seq",
            how="inner",
            maintain_order="right",  # the index is in seq order: no sort needed
        )
        .with_columns(_roles())
    )
    refused = (kind == "reject") & action.is_in(REFUSED)
    rcls = refusal_class(action, stage)
    data_refused_stage = refused & stage.is_in(["DATA", *_AFTER_DATA])
    client = ~pl.col("_daemon")
    eof = (kind == "disconnect") & pl.col("end_reason").eq_missing("EOF")
    # per session: the first value of each (masked to the lines that carry it: see loganalyzer.aggregates)
    firsts = {
        "pid": pl.when(client).then(pl.col("pid")),
        **{c: pl.col(c) for c in ("client_name", "client_ip", "client_port", "helo", "tls_protocol", "tls_cipher")},
        "tls_error": pl.when(kind == "tls-error").then(pl.col("tls_error")),
        # a client that closed the connection without QUIT: the end of the session, unless a text line said it first
        "_eof": pl.when(eof).then(pl.lit("lost connection")),
        "_eof_seq": pl.when(eof).then(pl.col("seq")),
    }
    # ... whether any line is so
    flags = {
        "_has_connect": kind == "connect",
        "_has_disconnect": kind == "disconnect",
        "_ended": pl.col("_close") | pl.col("_tail"),
        "_tls_failed": kind == "tls-error",
        "_tls_ok": ((kind == "arrival") & proto.is_in(_TLS_PROTOCOLS)) | pl.col("tls_cipher").is_not_null(),
        "_plain": (kind == "arrival") & proto.is_in(_PLAIN_PROTOCOLS),
    }
    # ... how many
    counts = {
        "_rcpt_ok": (kind == "arrival") | data_refused_stage,
        "_rcpt_refused": refused & (stage == "RCPT"),
        "_data_ok": kind == "arrival",
        "_data_refused": data_refused_stage,
        "reject_4xx": refused & (rcls == 4),
        "reject_5xx": refused & (rcls == 5),
        "sasl_failures": kind == "sasl-failure",
    }
    masked = Masked(firsts, flags, counts)
    frame = (
        rows.with_columns(masked.columns())
        .group_by("session_id")
        .agg(
            pl.col("host").first(),
            pl.col("program").first(),
            pl.col("correlation").first(),
            pl.col("seq").min().alias("first_seq"),
            *session_span(),
            *masked.aggregates(),
        )
    )
    texts = per_session(
        exim.filter(kind.is_in(_TEXT_KINDS)).select(
            "seq", "kind", "reason", "details", "command", "recipient", "end_reason", "severity"
        ),
        lines,
        _text_details(),
    )
    refusals = per_session(
        exim.filter(refused).select("seq", "stage", "sender", "recipient", "reason"),
        lines,
        Masked(),
        pl.struct(
            "seq", pl.col("stage").cast(pl.String), pl.lit(None, dtype=pl.Int16).alias("reply_code"),
            pl.lit(None, dtype=pl.String).alias("dsn"), "sender", "recipient", "reason",
        ).alias("rejects"),
    )  # fmt: skip
    queue_ids = per_session(
        exim.filter(kind.is_in(["arrival", "reject"]) & pl.col("queue_id").is_not_null()).select("seq", "queue_id"),
        lines,
        Masked(),
        pl.col("queue_id").unique(maintain_order=True).alias("queue_ids"),
    )
    # the first end of the session, whichever kind of line said it
    text_first = pl.col("_end_text").is_not_null() & (
        pl.col("_eof_seq").is_null() | (pl.col("_end_text_seq") < pl.col("_eof_seq"))
    )
    frame = (
        frame.join(texts, on="session_id", how="left")
        .join(refusals, on="session_id", how="left")
        .join(queue_ids, on="session_id", how="left")
        .with_columns(
            pl.when(text_first).then(pl.col("_end_text")).otherwise(pl.col("_eof")).alias("end_reason"),
            (pl.col("_rcpt_ok") + pl.col("_text_rcpt_ok").fill_null(0)).alias("_rcpt_ok"),
            (pl.col("_data_refused") + pl.col("_text_data_refused").fill_null(0)).alias("_data_refused"),
            pl.col("_unknown").fill_null(0),
            pl.col("_content_after_data").fill_null(False),
            pl.col("queue_ids").fill_null(pl.lit([], dtype=pl.List(pl.String))),
        )
    )
    rcpt_total = pl.col("_rcpt_ok") + pl.col("_rcpt_refused")
    # content read as commands proves one refused DATA when no line names it (a pipelined DATA after
    # refused RCPTs gets its 503 silently); only in a session that got as far as RCPT
    content_data = pl.col("_content_after_data") & (pl.col("_data_refused") == 0) & (rcpt_total > 0)
    data_total = pl.col("_data_ok") + pl.col("_data_refused") + content_data.cast(pl.Int32)
    tls = (
        pl.when(pl.col("_tls_failed"))
        .then(pl.lit("failed"))
        .when(pl.col("_tls_ok"))
        .then(pl.lit("established"))
        .when(pl.col("_plain"))
        .then(pl.lit("none"))
    )
    # a session with a connection line of its own was logged with +smtp_connection: what it lacks, the log cut
    partial_reason = (
        pl.when(~pl.col("_has_connect") & ~pl.col("_has_disconnect"))
        .then(pl.lit("inferred"))
        .when(~pl.col("_has_connect"))
        .then(pl.lit("log-start"))
        .when(~pl.col("_ended"))
        .then(pl.lit("log-end"))
    )
    done = frame.with_columns(
        pl.lit("exim").alias("daemon"),
        pl.when(rcpt_total > 0).then(pl.struct(ok=pl.col("_rcpt_ok"), total=rcpt_total)).alias("cmd_rcpt"),
        pl.when(data_total > 0).then(pl.struct(ok=pl.col("_data_ok"), total=data_total)).alias("cmd_data"),
        pl.when(pl.col("_unknown") > 0)
        .then(pl.struct(ok=pl.lit(0, dtype=pl.Int32), total=pl.col("_unknown")))
        .alias("cmd_unknown"),
        tls.alias("tls"),
        partial_reason.alias("partial_reason"),
        pl.when(pl.col("reject_4xx") + pl.col("reject_5xx") > 0).then(pl.col("rejects")).alias("rejects"),
    ).with_columns(pl.col("partial_reason").is_not_null().alias("partial"))
    return align(done, SESSIONS)


# --- messages -------------------------------------------------------------------------------


def _with_message_id(events: pl.LazyFrame) -> pl.LazyFrame:
    """Exim's lines that name a message (its lifecycles are made of them)."""
    return events.filter(is_exim(pl.col("daemon")) & pl.col("queue_id").is_not_null())


#: 1 on a line that ends a message's lifecycle.
_ENDS = pl.col("kind").is_in(["completed", "removed"]).cast(pl.Int32)


def lifecycles(events: pl.LazyFrame) -> pl.LazyFrame:
    """The Exim message-id lines (seq, ts, host, kind, queue_id), numbered as Postfix's are
    (:func:`loganalyzer.sessions.number_lifecycles`): ``Completed`` (or ``removed by``) ends a
    lifecycle the way Postfix's ``removed`` does."""
    from .sessions import number_lifecycles  # (sessions imports this module)

    exim = _with_message_id(events)
    return number_lifecycles(exim.select("seq", "ts", "host", "kind", "queue_id"), _ENDS == 1)


#: True for a session Exim's lines made (its correlation is one of Exim's).
EXIM_SESSION = pl.col("correlation").cast(pl.String).str.starts_with("exim")


def _link_key() -> pl.Expr:
    """``_k``: one hash of a row's (host, message id), the host as text (two frames' categories need not agree)."""
    return pl.struct(pl.col("host").cast(pl.String), "queue_id").hash().alias("_k")


def keyed_links(linked: pl.DataFrame) -> pl.DataFrame:
    """``linked`` ((host, queue_id, session_id), one row per (host, queue id):
    :func:`loganalyzer.sessions.received_by`) with :func:`_link_key`, for :func:`build_messages` to join
    each window's messages by one integer; as it is when two of its keys share a hash."""
    keyed = linked.with_columns(_link_key())
    return keyed if keyed.get_column("_k").n_unique() == keyed.height else linked


def _with_sessions(messages: pl.LazyFrame, linked: pl.DataFrame) -> pl.LazyFrame:
    """``messages`` with the ``session_id`` that received each (null: none), from ``linked``
    (:func:`keyed_links`).

    By the hash of (host, message id) when the links have one: a join by the two columns hashed
    the 117,000 links' text again in every window (Exim benchmark log, messages 0.71 -> 0.67 s).
    A message whose hash is another key's, its own key not among the links, is told by its id
    and host, and takes no session.
    """
    if "_k" not in linked.columns:
        return messages.join(linked.lazy(), on=["host", "queue_id"], how="left", nulls_equal=True)
    theirs = linked.lazy().select(
        "_k", "session_id", pl.col("host").cast(pl.String).alias("_their_host"), pl.col("queue_id").alias("_their_id")
    )
    same = pl.col("_their_id").eq_missing(pl.col("queue_id")) & pl.col("_their_host").eq_missing(
        pl.col("host").cast(pl.String)
    )
    return (
        messages.with_columns(_link_key())
        .join(theirs, on="_k", how="left")
        .with_columns(pl.when(same).then(pl.col("session_id")).alias("session_id"))
        .drop("_k", "_their_host", "_their_id")
    )


#: The line kinds :func:`build_messages` reads of the events.
MESSAGE_KINDS = ["arrival", "reject", "delivery"]
#: The event columns Exim's messages are made of (arrivals, refusals, deliveries).
_MESSAGE_COLUMNS = ["seq", "ts", "kind", "action", "sender", "orig_queue_id", "client_name", "client_ip",
                    "sasl_username", "size", "message_id", "status", "recipient", "orig_to", "relay", "relay_ip",
                    "relay_port", "transport", "dsn", "reason", "details"]  # fmt: skip


def build_messages(events: pl.LazyFrame, linked: pl.DataFrame, lines: pl.DataFrame) -> pl.LazyFrame:
    """One row per Exim message-id lifecycle of ``lines`` (schema :data:`~loganalyzer.schema.MESSAGES`).

    ``lines`` is (part of) :func:`lifecycles`; ``linked``
    (:func:`loganalyzer.sessions.received_by` of the :data:`EXIM_SESSION` sessions, best
    through :func:`keyed_links`) ties each message to the connection that received it. Each detail (the
    arrival, refusals, delivery attempts) is read from the lines of its kind
    and joined per lifecycle.
    """
    kind = pl.col("kind")
    # the lines of the three kinds read below, read once: each query of the events would read their
    # files again (the messages of the 1.27M-line benchmark log in windows: 0.85 -> 0.68 s); each line's
    # lifecycle is looked up by its seq once, for all of them (a join per kind cost more)
    read = _with_message_id(events).filter(kind.is_in(MESSAGE_KINDS)).select(*_MESSAGE_COLUMNS).collect()
    exim = looked_up(read, lines, "first_seq").lazy()
    del read
    index = lines.lazy()
    messages = index.group_by("first_seq").agg(
        pl.col("host").first(),
        pl.col("queue_id").first(),
        pl.col("lifecycle").first(),
        pl.col("ts").min().alias("first_seen"),
        pl.col("ts").max().alias("last_seen"),
        _ENDS.cast(pl.Boolean).any().alias("removed"),
    )

    def per_message(frame: pl.LazyFrame, aggregates: list[pl.Expr]) -> pl.LazyFrame:
        return frame.sort("seq").group_by("first_seq").agg(aggregates)

    arrival = kind == "arrival"
    origin = per_message(
        exim.filter(arrival).select(
            "seq", "first_seq", "ts", "action", "sender", "orig_queue_id", "client_name", "client_ip", "sasl_username",
            "size", "message_id",
        ),
        [
            pl.col("ts").first().alias("_arrived"),
            (pl.col("action") == "(=").any().alias("_fake_reject"),
            *(pl.col(c).first() for c in ("sender", "orig_queue_id", "client_name", "client_ip", "sasl_username",
                                          "size", "message_id")),
        ],
    )  # fmt: skip
    refused = per_message(
        exim.filter((kind == "reject") & pl.col("action").is_in(REFUSED)).select("seq", "first_seq"),
        [pl.len().alias("_refusals")],
    )
    flag = pl.col("action")
    deliveries = exim.filter((kind == "delivery") & (flag != "*>")).select(
        "seq", "first_seq", "ts", "action", "status", "recipient", "orig_to", "relay", "relay_ip", "relay_port",
        "transport", "dsn", "reason", "details",
    )  # fmt: skip
    status = delivery_status(pl.col("status"), pl.col("action"))
    remote = pl.concat_str([pl.col("relay"), pl.lit("["), pl.col("relay_ip"), pl.lit("]")])
    relay = (
        pl.when(pl.col("relay_ip").is_null())
        .then(pl.col("transport").cast(pl.String))
        .when(pl.col("relay_port").is_not_null())
        .then(pl.concat_str([remote, pl.lit(":"), pl.col("relay_port").cast(pl.String)]))
        .otherwise(remote)
    )
    # what the next hop said: the error of ==/**, the confirmation C="..." of => (smtp_confirmation)
    said = pl.coalesce(
        pl.when(pl.col("reason").str.len_chars() > 0).then(pl.col("reason")),
        pl.col("details").str.extract(r'C="(.*)"', 1),
        pl.when(pl.col("details").str.len_chars() > 0).then(pl.col("details")),
    )
    # the enhanced status code of the remote reply Exim quotes (C="250 2.0.0 OK", ": 550 5.1.1 ...")
    quoted_dsn = pl.col("reason").str.extract(r"[245][0-9][0-9][ -]([245]\.[0-9]{1,3}\.[0-9]{1,3})\b", 1)
    arrived = origin.select("first_seq", "_arrived")
    # Postfix's delay: seconds since the message arrived (a cutthrough >> comes before its <=, hence the clip)
    delay = (pl.col("ts") - pl.col("_arrived")).dt.total_microseconds().cast(pl.Float64) / 1e6
    joined = deliveries.join(arrived, on="first_seq", how="left")
    # text functions cost per row, and most deliveries carry no text (local ones; => without
    # smtp_confirmation): they run on the others only (0.1 -> 0.03 s for the 203,000 deliveries of
    # the Exim benchmark log, of which 51,000 carry some)
    texted = ((pl.col("reason").str.len_bytes() > 0) | (pl.col("details").str.len_bytes() > 0)).fill_null(False)
    with_text = (
        joined.filter(texted)
        .with_columns(said.alias("reason"))
        .with_columns(
            pl.coalesce(pl.col("dsn").cast(pl.String), quoted_dsn).alias("dsn"),
            ((flag == "**") & pl.col("reason").str.contains("retry timeout exceeded")).alias("_expired"),
        )
    )
    without_text = joined.filter(~texted).with_columns(
        pl.lit(None, dtype=pl.String).alias("reason"), pl.col("dsn").cast(pl.String), pl.lit(False).alias("_expired")
    )
    attempts = (
        pl.concat([with_text, without_text], how="vertical_relaxed")
        .with_columns(status.alias("status"), relay.alias("relay"), delay.clip(lower_bound=0).alias("delay"))
        .sort("seq")
        .group_by("first_seq")
        .agg(
            pl.struct("seq", "ts", "recipient", "orig_to", "relay", "status", "dsn", "delay", "reason").alias(
                "deliveries"
            ),
            pl.col("recipient").filter(pl.col("status") == "sent").n_unique().cast(pl.Int32).alias("delivered"),
            (pl.col("status") == "deferred").sum().cast(pl.Int32).alias("deferred"),
            pl.col("recipient").filter(pl.col("status") == "bounced").n_unique().cast(pl.Int32).alias("bounced"),
            pl.col("_expired").any().alias("expired"),
        )
    )
    origin_kind = (
        pl.when((pl.col("sender") == "") & pl.col("orig_queue_id").is_not_null())
        .then(pl.lit("notification"))
        .when(pl.col("client_ip").is_not_null())
        .then(pl.lit("smtp"))
        .when(pl.col("_arrived").is_not_null())
        .then(pl.lit("local"))
    )
    detailed = (
        messages.join(origin, on="first_seq", how="left")
        .join(refused, on="first_seq", how="left")
        .join(attempts, on="first_seq", how="left")
    )
    done = _with_sessions(detailed, linked).with_columns(
        origin_kind.alias("origin"),
        pl.concat_str(
            [
                pl.col("host").cast(pl.String).fill_null("-"),
                pl.col("queue_id"),
                pl.col("lifecycle").cast(pl.String),
            ],
            separator="/",
        ).alias("message_key"),
        ((pl.col("_refusals").fill_null(0) > 0) | pl.col("_fake_reject").fill_null(False)).alias("rejected"),
        pl.col("delivered").fill_null(0),
        pl.col("deferred").fill_null(0),
        pl.col("bounced").fill_null(0),
        pl.col("expired").fill_null(False),
    )
    return align(done, MESSAGES)
