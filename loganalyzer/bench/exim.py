"""The synthetic Exim mainlog: a discrete-event simulation of a busy exim4 MX + submission host.

:func:`iter_exim_lines` yields a deterministic (seeded) stream in Exim's own
mainlog format, ``YYYY-MM-DD HH:MM:SS [[pid] ][msgid ]text``
(``log-formats.md`` section 6), of one host over several days:

* port 25 sessions of legitimate senders (``<=`` arrivals with ``H=``, ``P=``,
  ``X=``, ``CV=``, ``S=``, ``DKIM=``, ``id=``, local ``=>`` deliveries,
  ``Completed``), greylisting (``temporarily rejected RCPT``, retried later),
  DNSBL, relay, unknown-user and sender-verify rejections, rejected
  EHLO/MAIL/connections, ``rejected after DATA``;
* bots: connect-and-leave probes, ``AUTH`` password guessing
  (``authenticator failed``, ``AUTH command used when not advertised``,
  ``SMTP call from ... dropped``), ``TLS error on connection ... (SSL_accept)``
  (some legitimate senders then retry in plaintext), protocol synchronization
  errors, HTTP requests (``SMTP syntax error``), lost connections and command
  timeouts;
* submission (587 and 465) of authenticated users: remote ``=>``/``->``
  deliveries, ``==`` deferrals retried by ``-q30m`` queue runs (``Start queue
  run``/``End queue run``, ``retry time not reached``), ``**`` failures and
  their ``<= <> R=`` bounces; local mail from cron and the web server.

Exim's log depends on its version and ``log_selector``, and both change during
the run, each at a daemon restart (``exim ... daemon started``):

* ``upgrade_at``: Exim 4.96 becomes 4.97.1, whose message ids are 6-11-4
  instead of 6-6-2. Messages already queued keep their old ids, so both forms
  appear in one log, as they do after a real upgrade.
* ``extras_at``: Debian's selector (``+smtp_protocol_error +smtp_syntax_error
  +tls_certificate_verified +tls_peerdn`` on top of Exim's defaults) gains
  :data:`EXTRA_SELECTORS`: ``[pid]`` on every line, ``SMTP connection from``
  and ``closed by QUIT|EOF``, ``no MAIL in SMTP connection``, client ports,
  ``I=`` interfaces and per-signature ``DKIM:`` lines.

A process keeps the configuration it started with: a session that began before
a restart still logs the old way, and queue runners started after it the new
way. TLS is spelled as an OpenSSL build spells it (``X=TLS1.3:TLS_AES_256_GCM_SHA384:256``,
``(SSL_accept)``); Debian's own packages are GnuTLS builds. Client addresses
come from ``10.0.0.0/8`` and the documentation ranges, names use ``example``
domains.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from random import Random

from .population import (
    Internet,
    Pids,
    bigmail_name,
    dialup_client,
    esp_name,
    ip4,
    ip6,
    message_id,
    message_size,
    org_name,
    outlook_name,
    people,
    reply_fields,
    user_client,
    zipf_cum_weights,
)
from .simulation import Simulation
from .words import BOT_HELOS, BRUTE_USERS, FIRST, LAST, LOCAL_DOMAINS, ROLES, WORDS, weighted

__all__ = ["EXTRA_SELECTORS", "NEW_VERSION", "OLD_VERSION", "iter_exim_lines"]

OLD_VERSION = "4.96"
NEW_VERSION = "4.97.1"
#: What ``extras_at`` adds to Debian's ``MAIN_LOG_SELECTOR``.
EXTRA_SELECTORS = "+smtp_connection +smtp_no_mail +pid +incoming_port +incoming_interface +dkim_verbose"
HOSTNAME = "mx1.example.com"
LOCAL_IP = "192.0.2.25"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_TLS_IN = (
    (60.0, "TLS1.3:TLS_AES_256_GCM_SHA384:256"),
    (15.0, "TLS1.3:TLS_AES_128_GCM_SHA256:128"),
    (5.0, "TLS1.3:TLS_CHACHA20_POLY1305_SHA256:256"),
    (17.0, "TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256"),
    (3.0, "TLS1.2:ECDHE-RSA-AES128-GCM-SHA256:128"),
)
_TLS_ERRORS = (
    "error:0A0000C1:SSL routines::no shared cipher",
    "error:0A00010B:SSL routines::wrong version number",
    "error:0A000102:SSL routines::unsupported protocol",
    "error:0A000076:SSL routines::no suitable signature algorithm",
    "error:0A000126:SSL routines::unexpected eof while reading",
)
_CONFIRMATIONS = (
    "250 2.0.0 OK  {epoch} {hex8}.{n}-20020a05600c{hex4} - gsmtp",
    "250 2.0.0 Ok: queued as {qid}",
    "250 2.6.0 <{mid}> [InternalId={n}, Hostname=AM0PR07MB{n4}.eurprd07.prod.outlook.example] Queued mail for delivery",
    "250 OK id={eximid}",
    "250 Message received",
)
_HTTP = ("GET / HTTP/1.1", "Host: {ip}", "User-Agent: Mozilla/5.0 zgrab/0.x", "Accept: */*", "Accept-Encoding: gzip")
_AUTHENTICATORS = ("plain_server", "login_server")
#: The email service providers whose servers send us mail.
_ESPS = ("mcsv.example.net", "amazonses.example", "sendgrid.example.net", "mailgun.example.org")


def _esp_sender(rng: Random, domain: str) -> str:
    """An ESP's bounce address; Postfix's generator spells and draws it otherwise, so it stays here."""
    return f"bounce-{rng.randint(1000, 99999)}_{rng.getrandbits(32):08x}-{rng.choice(WORDS)}@{domain}"


def base62(value: int, width: int) -> str:
    """``value`` in Exim's base 62, left-padded with zeros to ``width`` characters."""
    out = []
    for _ in range(width):
        value, digit = divmod(value, 62)
        out.append(_B62[digit])
    return "".join(reversed(out))


def exim_duration(seconds: float) -> str:
    """A duration as Exim's ``readconf_printtime`` writes ``D=``: ``0s``, ``42s``, ``2m``, ``1h3m7s``."""
    rest = int(seconds)
    parts = []
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count}{unit}")
    if rest or not parts:
        parts.append(f"{rest}s")
    return "".join(parts)


@dataclass(frozen=True)
class _Config:
    """What one Exim process writes: its version and whether the extra selectors are on."""

    version: str
    extras: bool

    @property
    def new_ids(self) -> bool:
        return self.version != OLD_VERSION


@dataclass(frozen=True)
class _Client:
    """An SMTP client: its forward-confirmed PTR name (``None`` without one), IP and HELO."""

    name: str | None
    ip: str
    helo: str
    domain: str = ""
    kind: str = "bot"  # freemail | esp | org | bot | user


@dataclass
class _Message:
    """One spool file: its id, envelope and the recipients still to be delivered."""

    id: str
    sender: str
    rcpts: list[str]
    size: int
    mid: str
    arrival: float
    pending: list[str] = field(default_factory=list)
    next_try: float = 0.0


class _Session:
    """One incoming SMTP connection: a process of its own, lines at a moving time."""

    def __init__(self, sim: _Simulator, client: _Client, t: float, port: int) -> None:
        self.sim = sim
        self.cfg = sim.cfg
        self.client = client
        self.port = port
        self.pid = sim.new_pid()
        self.rport = sim.rng.randint(1024, 65535)
        self.t = self.begin = t
        self.helo: str | None = None
        self.tls: str | None = None
        self.auth: str | None = None
        self.cmds: list[str] = []
        self.had_mail = False

    def address(self) -> str:
        """``[ip]``, with ``:port`` under ``+incoming_port``."""
        return f"[{self.client.ip}]:{self.rport}" if self.cfg.extras else f"[{self.client.ip}]"

    def interface(self) -> str:
        """`` I=[ip]:port`` under ``+incoming_interface``."""
        return f" I=[{LOCAL_IP}]:{self.port}" if self.cfg.extras else ""

    def host(self) -> str:
        """``sender_fullhost`` plus the interface, as ``host_and_ident()`` writes it."""
        name, helo, addr = self.client.name, self.helo, self.address()
        if name and helo and helo != name:
            full = f"{name} ({helo}) {addr}"
        elif name:
            full = f"{name} {addr}"
        elif helo:
            full = f"({helo}) {addr}"
        else:
            full = addr
        return full + self.interface()

    def tls_fields(self) -> str:
        return f" X={self.tls} CV=no" if self.tls else ""

    def log(self, text: str, dt: float = 0.0, msgid: str | None = None) -> None:
        self.t += dt
        self.sim.push(self.t, self.cfg, self.pid, msgid, text)

    def cmd(self, *names: str) -> None:
        self.cmds.extend(names)


class _Simulator(Simulation):
    """Discrete-event simulation (:mod:`.simulation`) of one Exim host; :meth:`lines` yields its mainlog."""

    RATE = 0.75
    QUEUE_INTERVAL = 1800.0  # Debian runs the daemon with -q30m

    def __init__(self, seed: int, start: datetime | None, upgrade_at: float | None, extras_at: float | None) -> None:
        super().__init__(seed, start)
        rng = self.rng
        self.epoch = int(self.start.replace(tzinfo=UTC).timestamp())
        self.upgrade_at = upgrade_at
        self.extras_at = extras_at
        upgraded = upgrade_at is not None and upgrade_at <= 0
        self.cfg = _Config(NEW_VERSION if upgraded else OLD_VERSION, extras_at is not None and extras_at <= 0)
        self.pids = Pids(rng, (900, 3000), step=40)
        self.open: list[float] = []  # end times of sessions, for the connection count
        self.queue: dict[str, _Message] = {}
        self.users = [f"{p}@{rng.choice(LOCAL_DOMAINS)}" for p in people(rng, surnames=10)[:500]]
        self.net = Internet(rng, dead_after=50, esp_sender=_esp_sender)
        self.servers, self.server_weights = self._servers()
        self.bots = [self._bot() for _ in range(20000)]
        self.mix = (
            (30.0, self.inbound_session),
            (5.0, self.greylist_session),
            (9.0, self.dnsbl_session),
            (3.0, self.relay_session),
            (4.0, self.unknown_user_session),
            (2.0, self.sender_verify_session),
            (22.0, self.probe_session),
            (14.0, self.auth_attack_session),
            (2.0, self.tls_failure_session),
            (3.0, self.protocol_error_session),
            (2.0, self.rejected_connection_session),
            (12.0, self.submission_session),
            (1.0, self.local_submission),
        )

    # -- names and addresses ---------------------------------------------------------

    def _servers(self) -> tuple[list[_Client], list[float]]:
        """Legitimate sending servers, most popular first (Zipf-like weights)."""
        rng = self.rng
        servers: list[_Client] = []
        for i in range(60):
            name = bigmail_name(rng, i)
            servers.append(_Client(name, ip6(rng) if i % 3 == 0 else ip4(rng), name, "bigmail.example", "freemail"))
        for i in range(40):
            name = outlook_name(rng, i)
            servers.append(_Client(name, ip6(rng) if i % 2 else ip4(rng), name, "outlook.example", "freemail"))
        for i in range(200):
            esp = rng.choice(_ESPS)
            name = esp_name(rng, i, esp)
            servers.append(_Client(name, ip4(rng), name, esp, "esp"))
        for domain in self.net.domains[5:]:
            name = org_name(rng, domain)
            # Some organisations' servers greet with an internal name.
            helo = name if rng.random() < 0.85 else f"{rng.choice(('exch01', 'srv-mail', 'gw'))}.{domain}.local"
            servers.append(_Client(name, ip4(rng), helo, domain, "org"))
        return servers, zipf_cum_weights(len(servers))

    def _bot(self) -> _Client:
        rng = self.rng
        ip, name = dialup_client(rng)
        r = rng.random()
        helo = rng.choice(BOT_HELOS) if r < 0.6 else f"[{ip}]" if r < 0.8 or name is None else name
        return _Client(name, ip, helo)

    def server(self) -> _Client:
        return self.rng.choices(self.servers, cum_weights=self.server_weights)[0]

    def bot(self) -> _Client:
        return self.rng.choice(self.bots) if self.rng.random() < 0.5 else self._bot()

    def local_rcpt(self) -> str:
        rng = self.rng
        if rng.random() < 0.88:
            return rng.choice(self.users)
        return f"{rng.choice(ROLES)}@{rng.choice(LOCAL_DOMAINS)}"

    def new_pid(self) -> int:
        return self.pids.next()

    def exim_id(self, t: float, pid: int, cfg: _Config) -> str:
        """A message id: base-62 seconds, pid and sub-second fraction; 6-11-4 from 4.97, 6-6-2 before."""
        fraction = int((t % 1) * 1_000_000)
        seconds = base62(self.epoch + int(t), 6)
        if cfg.new_ids:
            return f"{seconds}-{base62(pid, 11)}-{base62(fraction, 4)}"
        return f"{seconds}-{base62(pid, 6)}-{base62(fraction // 500, 2)}"

    # -- output ------------------------------------------------------------------------

    def push(self, t: float, cfg: _Config, pid: int | None, msgid: str | None, text: str) -> None:
        head = f"[{pid}] " if cfg.extras and pid is not None else ""
        if msgid:
            head += msgid + " "
        self.emit(t, head + text)

    def day_text(self, day: datetime) -> str:
        """The mainlog's ``YYYY-MM-DD``."""
        return day.strftime("%Y-%m-%d")

    def lines(self) -> Iterator[str]:
        """The log, endlessly, one line (without newline) at a time."""
        self.daemon_started(0.0)
        self.schedule(self.rng.uniform(0, 2), self.arrival)
        self.schedule(self.rng.uniform(60, self.QUEUE_INTERVAL), self.queue_run)
        for at, change in ((self.upgrade_at, self.upgrade), (self.extras_at, self.more_selectors)):
            if at is not None and at > 0:
                self.schedule(at, change)
        yield from self.run()

    # -- jobs: daemon, queue runs -------------------------------------------------

    def daemon_started(self, t: float) -> None:
        pid = self.new_pid()
        self.push(
            t,
            self.cfg,
            pid,
            None,
            f"exim {self.cfg.version} daemon started: pid={pid}, -q30m, listening for SMTP on port 25 "
            "(IPv6 and IPv4) port 587 (IPv6 and IPv4) port 465 (IPv6 and IPv4)",
        )

    def upgrade(self, t: float) -> None:
        self.cfg = replace(self.cfg, version=NEW_VERSION)
        self.daemon_started(t)

    def more_selectors(self, t: float) -> None:
        self.cfg = replace(self.cfg, extras=True)
        self.daemon_started(t)

    def queue_run(self, t: float) -> None:
        """A ``-q30m`` queue runner: retry what is due, note what is not."""
        rng = self.rng
        cfg = self.cfg
        runner = self.new_pid()
        self.push(t, cfg, runner, None, f"Start queue run: pid={runner}")
        now = t + 0.01
        for msg in list(self.queue.values()):
            pid = self.new_pid()
            now += rng.uniform(0.005, 0.05)
            if msg.next_try <= now:
                now = self.deliver(msg, msg.pending, now, cfg, pid)
                continue
            for rcpt in msg.pending:
                if rcpt.rsplit("@", 1)[1] in LOCAL_DOMAINS:
                    text = f"== {rcpt} routing defer (-52): retry time not reached"
                else:
                    domain = rcpt.rsplit("@", 1)[1]
                    text = (
                        f"== {rcpt} R=dnslookup T=remote_smtp defer (-54): "
                        f"retry time not reached for any host for '{domain}'"
                    )
                self.push(now, cfg, pid, msg.id, text)
        self.push(now + 0.01, cfg, runner, None, f"End queue run: pid={runner}")
        self.schedule(t + self.QUEUE_INTERVAL + rng.uniform(-5, 5), self.queue_run)

    # -- SMTP sessions: the pieces -------------------------------------------------------

    def connect(self, t: float, client: _Client, port: int = 25) -> _Session:
        s = _Session(self, client, t, port)
        while self.open and self.open[0] < t:
            heapq.heappop(self.open)
        if s.cfg.extras:
            s.log(f"SMTP connection from {s.address()}{s.interface()} (TCP/IP connection count = {len(self.open) + 1})")
        if client.name is None:
            s.log(f"no host name found for IP address {client.ip}", self.rng.uniform(0.001, 0.3))
        if port == 465:
            s.tls = weighted(self.rng, _TLS_IN)
        return s

    def close(self, s: _Session, how: str | None, dt: float = 0.0) -> None:
        """The end of a session: ``closed by QUIT|EOF`` and ``no MAIL`` (extra selectors only)."""
        s.t += dt
        if s.cfg.extras:
            duration = exim_duration(s.t - s.begin)
            if how:
                s.log(f"SMTP connection from {s.host()} D={duration} closed by {how}")
            if not s.had_mail:
                auth = f" A={s.auth}" if s.auth else ""
                tls = f" X={s.tls}" if s.tls else ""
                cmds = f" C={','.join(s.cmds[-20:])}" if s.cmds else ""
                s.log(f"no MAIL in SMTP connection from {s.host()} D={duration}{auth}{tls}{cmds}")
        heapq.heappush(self.open, s.t)

    def ehlo(self, s: _Session, p_tls: float) -> None:
        rng = self.rng
        s.cmd("EHLO")
        s.helo = s.client.helo
        s.t += rng.uniform(0.01, 0.3)
        if s.port != 465 and rng.random() < p_tls:
            s.cmd("STARTTLS", "EHLO")
            s.tls = weighted(rng, _TLS_IN)
            s.t += rng.uniform(0.02, 0.4)

    def reject_rcpt(self, s: _Session, sender: str, rcpt: str, reason: str, *, temporary: bool = False) -> None:
        s.cmd("RCPT")
        action = "temporarily rejected" if temporary else "rejected"
        s.log(
            f"H={s.host()}{s.tls_fields()} F=<{sender}> {action} RCPT <{rcpt}>: {reason}",
            self.rng.uniform(0.01, 0.4),
        )

    def end_rejected(self, s: _Session) -> None:
        """After a refused transaction: QUIT, hang up, or (bots) DATA and RSET first."""
        rng = self.rng
        r = rng.random()
        if r < 0.3:
            s.cmd("DATA")
        if r < 0.12:
            s.cmd("RSET")
        if r < 0.8:
            s.cmd("QUIT")
            self.close(s, "QUIT", rng.uniform(0.001, 0.3))
        else:
            s.t += rng.uniform(0.01, 2)
            s.log(
                f"unexpected disconnection while reading SMTP command from {s.host()} D={exim_duration(s.t - s.begin)}"
            )
            self.close(s, None)

    def dkim(self, client: _Client, sender: str) -> list[tuple[str, str]]:
        """(domain, verbose result) of each DKIM signature on a message from ``client``."""
        rng = self.rng
        if client.kind == "bot" or rng.random() < 0.1:
            return []
        domain = client.domain or sender.rsplit("@", 1)[-1]
        sigs = []
        if client.kind == "esp":  # the customer's signature next to the ESP's own
            customer = self.net.domains[rng.randrange(5, 300)]
            sigs.append((customer, "s=s1 c=relaxed/relaxed a=rsa-sha256 b=2048"))
        selector = rng.choice(("s1", "selector1", "google", "k1", "dkim", "mail"))
        bits = "a=ed25519-sha256 b=512" if rng.random() < 0.03 else f"a=rsa-sha256 b={rng.choice((1024, 2048, 2048))}"
        stamp = f" t={self.epoch + rng.randint(0, 10**6)}" if rng.random() < 0.5 else ""
        sigs.append((domain, f"s={selector} c=relaxed/relaxed {bits}{stamp}"))
        out = []
        for d, rest in sigs:
            r = rng.random()
            if r < 0.94:
                result = "verification succeeded"
            elif r < 0.97:
                result = "verification failed - body hash mismatch (body probably modified in transit)"
            elif r < 0.99:
                result = "invalid - public key record (currently?) unavailable"
            else:
                result = "verification failed - signature did not verify (headers probably modified in transit)"
            out.append((d, f"DKIM: d={d} {rest} [{result}]"))
        return out

    def receive(self, s: _Session, sender: str, rcpts: list[str], domain: str) -> _Message:
        """DATA, the ``<=`` line (after ``DKIM:`` lines) and a delivery process."""
        rng = self.rng
        size = message_size(rng)
        s.cmd("DATA")
        s.t += rng.uniform(0.05, 0.5) + size / rng.uniform(2e5, 5e6)
        msgid = self.exim_id(s.t, s.pid, s.cfg)
        sigs = self.dkim(s.client, sender) if s.client.kind != "user" else []
        if s.cfg.extras:
            for _, line in sigs:
                s.log(line, msgid=msgid)
        passed = next((d for d, line in sigs if line.endswith("[verification succeeded]")), None)
        proto = "esmtp" + ("s" if s.tls else "") + ("a" if s.auth else "")
        fields = [f"<= {sender or '<>'} H={s.host()} P={proto}"]
        if s.tls:
            fields.append(f"X={s.tls} CV=no")
        if s.auth:
            fields.append(f"A={s.auth}")
        fields.append(f"S={size}")
        if passed:
            fields.append(f"DKIM={passed}")
        mid = message_id(rng, self.start, domain, s.t)
        fields.append(f"id={mid}")
        s.log(" ".join(fields), msgid=msgid)
        s.had_mail = True
        msg = _Message(msgid, sender, list(rcpts), size, mid, s.t)
        self.deliver(msg, msg.rcpts, s.t + rng.uniform(0.002, 0.05), s.cfg)
        return msg

    # -- SMTP sessions: port 25 -------------------------------------------------------------

    def inbound_session(
        self, t: float, client: _Client | None = None, *, retry: tuple[str, str] | None = None, plain: bool = False
    ) -> None:
        """A legitimate sender delivers one or a few messages to our users.

        ``retry`` is the (sender, recipient) of a greylisted first attempt;
        ``plain`` is a retry without STARTTLS after a failed handshake.
        """
        rng = self.rng
        client = client or self.server()
        s = self.connect(t, client)
        self.ehlo(s, 0.0 if plain else 0.85 if client.kind != "org" else 0.6)
        for i in range(1 if rng.random() < 0.9 else rng.randint(2, 4)):
            sender = retry[0] if retry and i == 0 else self.net.sender(client.kind, client.domain)
            rcpts = [self.local_rcpt() for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 6))]
            if retry and i == 0:
                rcpts[0] = retry[1]
            s.cmd("MAIL")
            s.had_mail = True
            s.t += rng.uniform(0.02, 0.6)
            accepted = []
            for j, rcpt in enumerate(rcpts):
                if j > 0 and rng.random() < 0.05:
                    self.reject_rcpt(s, sender, rcpt, "Unrouteable address")
                    continue
                s.cmd("RCPT")
                accepted.append(rcpt)
            if rng.random() < 0.004:
                s.cmd("DATA")
                msgid = self.exim_id(s.t + 0.3, s.pid, s.cfg)
                virus = rng.choice(("Eicar-Signature", "Win.Trojan.Agent-1", "Doc.Dropper.Agent-2"))
                s.log(
                    f"H={s.host()}{s.tls_fields()} F=<{sender}> rejected after DATA: "
                    f"This message contains a virus ({virus})",
                    rng.uniform(0.3, 2),
                    msgid=msgid,
                )
                continue
            self.receive(s, sender, accepted, client.domain or "example.net")
        s.cmd("QUIT")
        self.close(s, "QUIT" if rng.random() < 0.95 else "EOF", rng.uniform(0.001, 0.2))

    def greylist_session(self, t: float) -> None:
        """A first attempt from an unknown (client, sender, recipient): greylistd defers it."""
        rng = self.rng
        legit = rng.random() < 0.75
        client = self.server() if legit else self.bot()
        s = self.connect(t, client)
        self.ehlo(s, 0.7 if legit else 0.2)
        sender = self.net.sender(client.kind, client.domain) if legit else self.net.spam_sender()
        rcpt = self.local_rcpt()
        s.cmd("MAIL")
        s.had_mail = True
        self.reject_rcpt(s, sender, rcpt, "greylisted.", temporary=True)
        self.end_rejected(s)
        if legit and rng.random() < 0.9:
            delay = rng.uniform(300, 1800) if rng.random() < 0.8 else rng.uniform(1800, 7200)

            def again(when: float) -> None:
                self.inbound_session(when, client, retry=(sender, rcpt))

            self.schedule(t + delay, again)

    def dnsbl_session(self, t: float) -> None:
        rng = self.rng
        client = self.bot()
        s = self.connect(t, client)
        self.ehlo(s, 0.15)
        s.cmd("MAIL")
        s.had_mail = True
        for _ in range(1 if rng.random() < 0.85 else rng.randint(2, 4)):
            if rng.random() < 0.8:
                why = f"{client.ip} is listed in zen.spamhaus.org (127.0.0.{rng.choice((2, 3, 4, 4, 9))}: https://www.spamhaus.org/query/ip/{client.ip})"
            else:
                why = f"{client.ip} is listed in bl.spamcop.net (127.0.0.2: Blocked - see https://www.spamcop.net/bl.shtml?{client.ip})"
            self.reject_rcpt(s, self.net.spam_sender(), self.local_rcpt(), why)
        self.end_rejected(s)

    def relay_session(self, t: float) -> None:
        rng = self.rng
        s = self.connect(t, self.bot())
        self.ehlo(s, 0.1)
        s.cmd("MAIL")
        s.had_mail = True
        sender = self.net.spam_sender()
        for _ in range(1 if rng.random() < 0.8 else rng.randint(2, 5)):
            self.reject_rcpt(s, sender, self.net.recipient(), "relay not permitted")
        self.end_rejected(s)

    def unknown_user_session(self, t: float) -> None:
        """Backscatter and dictionary attacks: recipients that do not exist."""
        rng = self.rng
        client = self.bot() if rng.random() < 0.7 else self.server()
        s = self.connect(t, client)
        self.ehlo(s, 0.3)
        s.cmd("MAIL")
        s.had_mail = True
        sender = self.net.spam_sender() if client.kind == "bot" else self.net.sender(client.kind, client.domain)
        for _ in range(1 if rng.random() < 0.85 else rng.randint(2, 12)):
            rcpt = (
                f"{rng.choice(FIRST + ROLES)}{rng.choice(('', '.', '_'))}{rng.choice(LAST)}@{rng.choice(LOCAL_DOMAINS)}"
            )
            self.reject_rcpt(s, sender, rcpt, "Unrouteable address")
        self.end_rejected(s)

    def sender_verify_session(self, t: float) -> None:
        """A sender address that does not route: ``sender verify fail``, then the RCPT is refused."""
        rng = self.rng
        client = self.bot()
        s = self.connect(t, client)
        self.ehlo(s, 0.2)
        s.cmd("MAIL")
        s.had_mail = True
        sender = f"{rng.choice(FIRST)}@{rng.choice(WORDS)}{rng.randint(10, 99)}.invalid"
        why = rng.choice(("Unrouteable address", "all relevant MX records point to non-existent hosts"))
        s.log(f"H={s.host()} sender verify fail for <{sender}>: {why}", rng.uniform(0.05, 2))
        self.reject_rcpt(s, sender, self.local_rcpt(), "Sender verify failed")
        self.end_rejected(s)

    def probe_session(self, t: float) -> None:
        """Scanners and bots that connect and leave, or wait for the timeout."""
        rng = self.rng
        s = self.connect(t, self.bot())
        r = rng.random()
        if r < 0.4:
            self.close(s, "EOF", rng.uniform(0.01, 1))
        elif r < 0.65:
            self.ehlo(s, 0.0)
            s.cmd("QUIT")
            self.close(s, "QUIT", rng.uniform(0.01, 1))
        elif r < 0.8:
            self.ehlo(s, 1.0)
            s.cmd("QUIT")
            self.close(s, "QUIT", rng.uniform(0.05, 1))
        elif r < 0.9:
            self.ehlo(s, 0.0)
            self.close(s, "EOF", rng.uniform(0.05, 3))
        else:
            self.ehlo(s, 0.0)
            s.t += 300
            s.log(f"SMTP command timeout on connection from {s.host()} D={exim_duration(s.t - s.begin)}")
            heapq.heappush(self.open, s.t)

    def auth_attack_session(self, t: float) -> None:
        """Password guessing on submission, or AUTH on port 25 where it is not advertised."""
        rng = self.rng
        client = self.bot()
        r = rng.random()
        port = 587 if r < 0.55 else 465 if r < 0.75 else 25
        s = self.connect(t, client, port)
        self.ehlo(s, 1.0 if port == 587 else 0.0)
        if port == 25:
            verb = rng.choice(("AUTH LOGIN", "AUTH PLAIN", "AUTH LOGIN"))
            tries = 1 if rng.random() < 0.6 else 3
            for _ in range(tries):
                s.cmd("AUTH")
                s.log(
                    f'SMTP protocol error in "{verb}" H={s.host()} AUTH command used when not advertised',
                    rng.uniform(0.2, 2),
                )
            if tries == 3:
                s.cmd("AUTH")
                s.log(
                    f"SMTP call from {s.host()} dropped: too many syntax or protocol errors "
                    f'(last command was "{verb}",  C={",".join(s.cmds)})',
                    rng.uniform(0.2, 2),
                )
                heapq.heappush(self.open, s.t)
                return
        else:
            user = rng.choice(BRUTE_USERS + ROLES)
            user = f"{user}@{rng.choice(LOCAL_DOMAINS)}" if rng.random() < 0.6 else user
            for _ in range(1 if rng.random() < 0.7 else rng.randint(2, 3)):
                s.cmd("AUTH")
                s.log(
                    f"{rng.choice(_AUTHENTICATORS)} authenticator failed for {s.host()}: "
                    f"535 Incorrect authentication data (set_id={user})",
                    rng.uniform(1, 4),
                )
        if rng.random() < 0.6:
            self.close(s, "EOF", rng.uniform(0.01, 0.5))
        else:
            s.cmd("QUIT")
            self.close(s, "QUIT", rng.uniform(0.01, 0.5))

    def tls_failure_session(self, t: float) -> None:
        """A failed STARTTLS handshake; some legitimate senders retry in plaintext."""
        rng = self.rng
        legit = rng.random() < 0.3
        client = self.server() if legit else self.bot()
        port = 25 if legit or rng.random() < 0.7 else 465
        s = self.connect(t, client, port)
        if port == 25:
            s.cmd("EHLO", "STARTTLS")
            s.helo = client.helo
        s.log(f"TLS error on connection from {s.host()} (SSL_accept): {rng.choice(_TLS_ERRORS)}", rng.uniform(0.05, 1))
        s.tls = None
        self.close(s, "EOF", rng.uniform(0.001, 0.05))
        if legit and rng.random() < 0.6:

            def plain(when: float) -> None:
                self.inbound_session(when, client, plain=True)

            self.schedule(t + rng.uniform(30, 900), plain)

    def protocol_error_session(self, t: float) -> None:
        """Clients that do not speak SMTP properly."""
        rng = self.rng
        client = self.bot()
        s = self.connect(t, client)
        r = rng.random()
        if r < 0.35:
            s.log(
                "SMTP protocol synchronization error (input sent without waiting for greeting): "
                f'rejected connection from H={s.host()} input="EHLO {client.helo}\\r\\n"',
                rng.uniform(0.01, 0.5),
            )
            heapq.heappush(self.open, s.t)
            return
        if r < 0.55:
            pending = f"MAIL FROM:<{self.net.spam_sender()}>\\r\\n"
            count = f" ({len(pending) - 2} bytes)" if s.cfg.new_ids else ""
            s.log(
                "SMTP protocol synchronization error (next input sent too soon: pipelining was not advertised): "
                f'rejected "HELO {client.helo}" H={s.host()} next input="{pending}"{count}',
                rng.uniform(0.1, 1),
            )
            heapq.heappush(self.open, s.t)
            return
        if r < 0.8:
            for i, line in enumerate(_HTTP[:4]):
                s.cmd("UNKNOWN")
                text = line.format(ip=LOCAL_IP)
                s.log(f'SMTP syntax error in "{text}" H={s.host()} unrecognized command', rng.uniform(0.001, 0.05))
                if i == 3:
                    s.log(f'SMTP call from {s.host()} dropped: too many unrecognized commands (last was "{text}")')
            heapq.heappush(self.open, s.t)
            return
        if r < 0.9:
            s.log(
                f"rejected EHLO from {s.host()}: syntactically invalid argument(s): "
                f"{rng.choice(('WIN_7_PC', 'my_host', 'host name', 'User@PC'))}",
                rng.uniform(0.05, 1),
            )
            s.cmd("EHLO", "QUIT")
            self.close(s, "QUIT", rng.uniform(0.01, 0.5))
            return
        s.cmd("EHLO")
        s.helo = rng.choice((HOSTNAME, "example.com", LOCAL_IP))
        s.log(f"H={s.host()} rejected EHLO or HELO {s.helo}: Impersonating {HOSTNAME}", rng.uniform(0.05, 1))
        self.close(s, "EOF", rng.uniform(0.01, 0.5))

    def rejected_connection_session(self, t: float) -> None:
        """The connect ACL refuses a host, or the MAIL ACL a sender forging our domains."""
        rng = self.rng
        client = self.bot()
        s = self.connect(t, client)
        r = rng.random()
        if r < 0.4:
            s.log(f'H={s.host()} rejected connection in "connect" ACL: blocked by local policy', rng.uniform(0.01, 0.2))
            heapq.heappush(self.open, s.t)
            return
        if r < 0.6:
            s.log(
                f'H={s.host()} temporarily rejected connection in "connect" ACL: too many connections from {client.ip}',
                rng.uniform(0.01, 0.2),
            )
            heapq.heappush(self.open, s.t)
            return
        self.ehlo(s, 0.3)
        s.cmd("MAIL")
        s.log(
            f"H={s.host()}{s.tls_fields()} rejected MAIL <{rng.choice(self.users)}>: "
            "authentication required for our domains",
            rng.uniform(0.05, 1),
        )
        s.cmd("QUIT")
        self.close(s, "QUIT", rng.uniform(0.01, 0.5))

    # -- submission and local mail ------------------------------------------------------------

    def submission_session(self, t: float) -> None:
        """An authenticated user of ours sends mail, on 587 (STARTTLS) or 465 (TLS on connect)."""
        rng = self.rng
        user = rng.choice(self.users)
        ip, name, helo = user_client(rng, user)
        client = _Client(name, ip, helo, "example.com", "user")
        s = self.connect(t, client, 587 if rng.random() < 0.8 else 465)
        self.ehlo(s, 1.0)
        s.cmd("AUTH")
        s.auth = f"{rng.choice(_AUTHENTICATORS)}:{user}"
        s.t += rng.uniform(0.05, 0.4)
        s.cmd("MAIL")
        n = 1 if rng.random() < 0.7 else rng.randint(2, 8)
        rcpts = [self.net.recipient() if rng.random() < 0.8 else self.local_rcpt() for _ in range(n)]
        s.cmd(*["RCPT"] * n)
        self.receive(s, user, rcpts, user.rsplit("@", 1)[1])
        s.cmd("QUIT")
        self.close(s, "QUIT", rng.uniform(0.001, 0.1))

    def local_submission(self, t: float) -> None:
        """Mail from cron or the web server, submitted with sendmail(1)."""
        rng = self.rng
        pid = self.new_pid()
        who = rng.choice(("root", "root", "www-data", "backup"))
        sender = f"{who}@{HOSTNAME}"
        rcpt = f"root@{HOSTNAME}" if who != "www-data" else self.net.recipient()
        size = rng.randint(600, 20000)
        msgid = self.exim_id(t, pid, self.cfg)
        stamp = (self.start + timedelta(seconds=t)).strftime("%Y%m%d%H%M%S")
        self.push(t, self.cfg, pid, msgid, f"<= {sender} U={who} P=local S={size} id=E{msgid}@{HOSTNAME}")
        msg = _Message(msgid, sender, [rcpt], size, f"{stamp}.{msgid}@{HOSTNAME}", t)
        self.deliver(msg, msg.rcpts, t + rng.uniform(0.01, 0.05), self.cfg)

    # -- delivery ------------------------------------------------------------------------------

    def deliver(self, msg: _Message, rcpts: list[str], t: float, cfg: _Config, pid: int | None = None) -> float:
        """One delivery process for ``rcpts`` of ``msg``; returns when it ends.

        Local recipients go to their maildir, remote ones over one SMTP
        connection per domain. What is deferred waits in the queue for a queue
        runner; what failed is bounced to the sender; a message with nothing
        left to do is ``Completed``.
        """
        rng = self.rng
        pid = pid or self.new_pid()
        pending: list[str] = []
        failed: list[str] = []
        by_domain: dict[str, list[str]] = {}
        for rcpt in rcpts:
            by_domain.setdefault(rcpt.rsplit("@", 1)[1], []).append(rcpt)
        for domain, group in by_domain.items():
            if msg.next_try and t - msg.arrival > 4 * 86400:
                for rcpt in group:
                    self.push(t, cfg, pid, msg.id, f"** {rcpt}: retry timeout exceeded")
                failed += group
                continue
            if domain in LOCAL_DOMAINS or domain == HOSTNAME:
                for rcpt in group:
                    t += rng.uniform(0.002, 0.05)
                    if self.deliver_local(msg, rcpt, t, cfg, pid):
                        pending.append(rcpt)
            else:
                t, deferred, bounced = self.deliver_remote(msg, domain, group, t, cfg, pid)
                pending += deferred
                failed += bounced
        t += rng.uniform(0.001, 0.01)
        if failed and msg.sender:
            self.bounce(msg, failed, t, cfg, pid)
            t += 0.01
        msg.pending = pending
        if pending:
            age = t - msg.arrival
            wait = 900.0 if age < 7200 else min(3600 * 1.5 ** ((age - 7200) // 3600), 6 * 3600)
            msg.next_try = t + wait
            self.queue[msg.id] = msg
        else:
            self.queue.pop(msg.id, None)
            self.push(t, cfg, pid, msg.id, "Completed")
        return t

    def deliver_local(self, msg: _Message, rcpt: str, t: float, cfg: _Config, pid: int) -> bool:
        """A maildir delivery; ``True`` when it was deferred (a full mailbox)."""
        rng = self.rng
        local = rcpt.split("@", 1)[0]
        if local in ROLES or local == "root":
            local = "sysadmin" if local == "root" else rng.choice(self.users).split("@", 1)[0]
        if rng.random() < 0.004:
            self.push(
                t,
                cfg,
                pid,
                msg.id,
                f"== {local} <{rcpt}> R=local_user T=maildir_home defer (-22): mailbox is full "
                f"(MTA-imposed quota exceeded while writing to /home/{local}/Maildir/tmp/{int(t)}.P{pid}Q1.{HOSTNAME})",
            )
            return True
        self.push(t, cfg, pid, msg.id, f"=> {local} <{rcpt}> R=local_user T=maildir_home")
        return False

    def deliver_remote(
        self, msg: _Message, domain: str, rcpts: list[str], t: float, cfg: _Config, pid: int
    ) -> tuple[float, list[str], list[str]]:
        """One SMTP connection to ``domain``'s MX: (end time, deferred, failed)."""
        rng = self.rng
        mx, ip = self.net.mx(domain)
        first_try = not msg.next_try
        if domain in self.net.dead or (first_try and rng.random() < 0.02):
            errno, why = ("110", "Connection timed out") if rng.random() < 0.8 else ("111", "Connection refused")
            t += rng.uniform(30, 31) if errno == "110" else rng.uniform(0.05, 0.4)
            self.push(t, cfg, pid, msg.id, f"H={mx} [{ip}] {why}")
            for rcpt in rcpts:
                self.push(t, cfg, pid, msg.id, f"== {rcpt} R=dnslookup T=remote_smtp defer ({errno}): {why}")
            return t, list(rcpts), []
        t += rng.uniform(0.05, 1.5)
        tls = ""
        if rng.random() < 0.85:
            cv = "yes" if rng.random() < 0.7 else "no"
            tls = f' X={weighted(rng, _TLS_IN)} CV={cv} DN="CN={mx}"'
        elif rng.random() < 0.2:
            self.push(
                t,
                cfg,
                pid,
                msg.id,
                "TLS session: (SSL_connect): error:0A000410:SSL routines::sslv3 alert handshake failure: "
                f"delivering unencrypted to H={mx} [{ip}] (not in hosts_require_tls)",
            )
        deferred: list[str] = []
        failed: list[str] = []
        flag = "=>"
        for rcpt in rcpts:
            t += rng.uniform(0.05, 1.0) + msg.size / rng.uniform(5e5, 1e7)
            r = rng.random()
            if r < 0.965 or (not first_try and r < 0.99):
                template = rng.choice(_CONFIRMATIONS)
                reply_values = reply_fields(rng)  # before the remote Exim's id: the order of the draws
                reply_values["eximid"] = self.exim_id(t, rng.randint(1000, 90000), cfg)
                reply = template.format(epoch=self.epoch + int(t), mid=msg.mid, **reply_values)
                self.push(
                    t, cfg, pid, msg.id, f'{flag} {rcpt} R=dnslookup T=remote_smtp H={mx} [{ip}]{tls} C="{reply}"'
                )
                flag = "->"
            elif r < 0.985:
                self.push(
                    t,
                    cfg,
                    pid,
                    msg.id,
                    f"== {rcpt} R=dnslookup T=remote_smtp defer (-44) H={mx} [{ip}]: SMTP error from remote mail "
                    f"server after RCPT TO:<{rcpt}>: 450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, "
                    f"see http://postgrey.schweikert.ch/help/{domain}.html",
                )
                deferred.append(rcpt)
            else:
                self.push(
                    t,
                    cfg,
                    pid,
                    msg.id,
                    f"** {rcpt} R=dnslookup T=remote_smtp H={mx} [{ip}]{tls} : SMTP error from remote mail server "
                    f"after RCPT TO:<{rcpt}>: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
                )
                failed.append(rcpt)
        return t, deferred, failed

    def bounce(self, msg: _Message, failed: list[str], t: float, cfg: _Config, pid: int) -> None:
        """The delivery failure report to ``msg``'s sender, a new message of its own."""
        rng = self.rng
        bounce_id = self.exim_id(t, pid, cfg)
        size = msg.size // 4 + rng.randint(1500, 4000) + 200 * len(failed)
        self.push(t, cfg, pid, bounce_id, f"<= <> R={msg.id} U=Debian-exim P=local S={size}")
        report = _Message(bounce_id, "", [msg.sender], size, f"E{bounce_id}@{HOSTNAME}", t)
        self.deliver(report, report.rcpts, t + rng.uniform(0.005, 0.05), cfg)


def iter_exim_lines(
    seed: int = 1,
    *,
    start: datetime | None = None,
    upgrade_hours: float | None = 4.0,
    extras_hours: float | None = 12.0,
) -> Iterator[str]:
    """An endless, deterministic stream of Exim mainlog lines (without newlines).

    Same arguments, same lines; timestamps never go back. ``start`` (default
    1 March 2025, midnight, taken as UTC for the ids) is the time of the first
    line. ``upgrade_hours`` after it Exim 4.96 is upgraded to 4.97.1 (new
    message ids; ``None``: never, ``0``: 4.97.1 from the start);
    ``extras_hours`` after it :data:`EXTRA_SELECTORS` are turned on (``None``:
    never, ``0``: from the start).
    """
    upgrade_at = None if upgrade_hours is None else upgrade_hours * 3600
    extras_at = None if extras_hours is None else extras_hours * 3600
    return _Simulator(seed, start, upgrade_at, extras_at).lines()
