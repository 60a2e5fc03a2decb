"""The synthetic Postfix log: a discrete-event simulation of a busy MX + submission host.

:func:`iter_postfix_lines` yields a deterministic (seeded) BSD syslog stream of
whole SMTP sessions (port 25, submission, postscreen) with consistent
``disconnect`` command statistics, queue-id lifecycles (cleanup, qmgr,
local/virtual/lmtp/smtp deliveries, deferrals with retries, bounces and their
notifications, amavis re-injection, pickup), greylisting (postgrey),
OpenDKIM/OpenDMARC/policyd-spf lines, anvil statistics and a few percent of
lines from programs loganalyzer does not model (dovecot, amavis).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
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
from .words import BOT_HELOS, BRUTE_USERS, FIRST, LAST, LOCAL_DOMAINS, ROLES, TLD, WORDS, token, weighted

__all__ = ["iter_postfix_lines"]

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_LOCAL_TRANSPORT = {
    "example.com": "lmtp",
    "staff.example.com": "virtual",
    "lists.example.com": "local",
    "shop.example.com": "virtual",
}

_TLS_IN = (
    (
        60,
        "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 "
        "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    ),
    (
        15,
        "TLSv1.3 with cipher TLS_AES_128_GCM_SHA256 (128/128 bits) key-exchange X25519 "
        "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    ),
    (
        5,
        "TLSv1.3 with cipher TLS_CHACHA20_POLY1305_SHA256 (256/256 bits) key-exchange X25519 "
        "server-signature RSA-PSS (2048 bits) server-digest SHA256",
    ),
    (17, "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)"),
    (3, "TLSv1.2 with cipher ECDHE-RSA-AES128-GCM-SHA256 (128/128 bits)"),
)
_TLS_OUT = (
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature ECDSA (P-256) "
    "server-digest SHA256",
    "TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits) key-exchange X25519 server-signature RSA-PSS "
    "(2048 bits) server-digest SHA256",
    "TLSv1.2 with cipher ECDHE-RSA-AES256-GCM-SHA384 (256/256 bits)",
)
_TLS_ERRORS = (
    ("-1", "error:0A0000C1:SSL routines::no shared cipher:../ssl/statem/statem_srvr.c:2220:"),
    ("-1", "error:0A00010B:SSL routines::wrong version number:../ssl/record/ssl3_record.c:354:"),
    ("-1", "error:0A000102:SSL routines::unsupported protocol:../ssl/statem/statem_srvr.c:1657:"),
    ("lost connection", "error:0A000076:SSL routines::no suitable signature algorithm:../ssl/t1_lib.c:3331:"),
)
_SASL_FAILURES = (
    ("LOGIN", "UGFzc3dvcmQ6"),
    ("LOGIN", "UGFzc3dvcmQ6"),
    ("PLAIN", "authentication failure"),
    ("LOGIN", "(reason unavailable), sasl_username={user}"),
    ("PLAIN", "(reason unavailable), sasl_username={user}"),
)
_ESP_REPLIES = (
    "250 2.0.0 OK  {epoch} {hex8}.{n}-20020a05600c{hex4} - gsmtp",
    "250 2.0.0 Ok: queued as {qid}",
    "250 2.6.0 <{mid}> [InternalId={n}, Hostname=AM0PR07MB{n4}.eurprd07.prod.outlook.example] Queued mail for delivery",
    "250 ok {epoch} qp {n4}",
    "250 Message received",
)
#: The email service providers whose servers send us mail.
_ESPS = (
    "mcsv.example.net",
    "smtp-out.amazonses.example",
    "sendgrid.example.net",
    "mailgun.example.org",
    "rsgsv.example.net",
)


def _esp_sender(rng: Random, domain: str) -> str:
    """An ESP's VERP-style bounce address; Exim's generator spells and draws it otherwise, so it stays here."""
    tag = f"{rng.getrandbits(32):08x}"
    return f"bounce-{rng.randint(1000, 99999)}_{tag}-{rng.choice(WORDS)}={rng.choice(TLD)}@{domain}"


def _fmt_delay(value: float) -> str:
    """A delay as Postfix prints it: 2 significant digits, no trailing zeros."""
    if value >= 10:
        return f"{value:.0f}"
    text = f"{value:.1f}" if value >= 1 else f"{value:.2f}"
    return text.rstrip("0").rstrip(".") or "0"


# --- generator: model -------------------------------------------------------------


@dataclass(frozen=True)
class _Client:
    """An SMTP client: its name as logged (``unknown`` without FCrDNS), IP and HELO."""

    name: str
    ip: str
    helo: str
    domain: str = ""
    kind: str = "bot"  # freemail | esp | org | bot | user

    @property
    def addr(self) -> str:
        return f"{self.name}[{self.ip}]"


@dataclass
class _Message:
    """One queue file: its id, envelope and where it came from."""

    host: _Host
    qid: str
    sender: str
    rcpts: list[str]
    size: int
    mid: str
    arrival: float
    inbound: bool = False
    client_ip: str = ""
    filtered: bool = False  # already went through amavis


class _Pool:
    """Processes of one daemon on one host: idle ones are reused, new ones get new pids.

    Idle processes exit after ``max_idle`` seconds and, now and then, after their
    ``max_use`` (``renew``), as Postfix's master does.
    """

    def __init__(self, host: _Host, *, renew: float = 0.01, max_idle: float = 100.0) -> None:
        self.host = host
        self.renew = renew
        self.max_idle = max_idle
        self.idle: list[tuple[float, int]] = []  # (since, pid), oldest first

    def take(self, t: float) -> int:
        cutoff = t - self.max_idle
        drop = 0
        while drop < len(self.idle) and self.idle[drop][0] < cutoff:
            drop += 1
        if drop:
            del self.idle[:drop]
        # An idle process freed after t is still busy at t.
        for i in range(len(self.idle) - 1, -1, -1):
            if self.idle[i][0] <= t:
                pid = self.idle.pop(i)[1]
                if self.host.rng.random() >= self.renew:
                    return pid
                break
        return self.host.new_pid()

    def release(self, pid: int, t: float) -> None:
        self.idle.append((t, pid))
        if len(self.idle) > 1 and self.idle[-2][0] > t:
            self.idle.sort()


class _Host:
    """One mail server: its name, pid counter and daemon processes."""

    def __init__(self, name: str, rng: Random) -> None:
        self.name = name
        self.fqdn = f"{name}.example.com"
        self.rng = rng
        self.pids = Pids(rng, (700, 2000), step=60)
        self.master = self.new_pid()
        self.qmgr = self.new_pid()
        self.anvil = self.new_pid()
        self.postscreen = self.new_pid()
        self.postgrey = self.new_pid()
        self.opendkim = self.new_pid()
        self.opendmarc = self.new_pid()
        self.amavis = [self.new_pid() for _ in range(4)]
        self.pools: dict[str, _Pool] = {}
        self.local_ip = f"192.0.2.{10 + rng.randint(0, 9)}"

    def new_pid(self) -> int:
        return self.pids.next()

    def pool(self, program: str) -> _Pool:
        if program not in self.pools:
            idle = 100.0 if "smtpd" in program else 60.0
            self.pools[program] = _Pool(self, renew=0.01, max_idle=idle)
        return self.pools[program]


class _Cmds:
    """SMTP command counts of one session, rendered as ``disconnect`` statistics."""

    ORDER = (
        "helo",
        "ehlo",
        "starttls",
        "auth",
        "mail",
        "rcpt",
        "data",
        "bdat",
        "rset",
        "noop",
        "vrfy",
        "quit",
        "unknown",
    )

    def __init__(self) -> None:
        self.ok = dict.fromkeys(self.ORDER, 0)
        self.total = dict.fromkeys(self.ORDER, 0)

    def add(self, name: str, ok: bool = True, n: int = 1) -> None:
        self.total[name] += n
        if ok:
            self.ok[name] += n

    def __str__(self) -> str:
        parts = []
        for name in self.ORDER:
            ok, total = self.ok[name], self.total[name]
            if total:
                parts.append(f"{name}={ok}" if ok == total else f"{name}={ok}/{total}")
        ok_sum, total_sum = sum(self.ok.values()), sum(self.total.values())
        parts.append(f"commands={ok_sum}" if ok_sum == total_sum and total_sum else f"commands={ok_sum}/{total_sum}")
        return " ".join(parts)


class _Conn:
    """An smtpd (or postscreen) session: lines of one process at a moving time."""

    def __init__(
        self, sim: _Simulator, host: _Host, program: str, client: _Client, t: float, service: str | None = None
    ) -> None:
        self.sim = sim
        self.host = host
        self.program = program
        self.service = service or program  # master.cf service: its own processes
        self.client = client
        self.t = t
        self.pid = host.pool(self.service).take(t)
        self.cmds = _Cmds()

    def log(self, msg: str, dt: float = 0.0) -> None:
        self.t += dt
        self.sim.push(self.t, self.host, self.program, self.pid, msg)

    def disconnect(self, dt: float = 0.0) -> None:
        self.log(f"disconnect from {self.client.addr} {self.cmds}", dt)
        self.host.pool(self.service).release(self.pid, self.t)


class _Simulator(Simulation):
    """Discrete-event simulation (:mod:`.simulation`) of the mail servers; :meth:`lines` yields the log."""

    RATE = 0.40

    def __init__(self, seed: int, hosts: int = 1, start: datetime | None = None) -> None:
        super().__init__(seed, start)
        rng = self.rng
        self.hosts = [_Host(f"mx{i + 1}", rng) for i in range(max(1, hosts))]
        users = people(rng, surnames=12)
        self.users = [f"{p}@{'example.com' if rng.random() < 0.6 else 'staff.example.com'}" for p in users[:600]]
        self.users += [f"{f}@example.com" for f in FIRST]
        self.net = Internet(rng, dead_after=100, esp_sender=_esp_sender)
        self.servers, self.server_weights = self._servers()
        self.bots = [self._bot() for _ in range(20000)]
        self.recent_bot = self.bots[0]
        self.greylisted: dict[tuple[str, str, str], float] = {}
        self.mix = (
            (30.0, self.inbound_session),
            (5.0, self.greylist_session),
            (9.0, self.dnsbl_session),
            (3.0, self.relay_session),
            (4.0, self.unknown_user_session),
            (3.0, self.policy_reject_session),
            (24.0, self.probe_session),
            (14.0, self.brute_force_session),
            (2.0, self.tls_failure_session),
            (2.0, self.protocol_error_session),
            (12.0, self.submission_session),
            (3.0, self.postscreen_session),
            (1.0, self.pickup_session),
        )

    # -- names and addresses ---------------------------------------------------------

    def _servers(self) -> tuple[list[_Client], list[float]]:
        """Legitimate sending servers, most popular first (Zipf-like weights)."""
        rng = self.rng
        servers: list[_Client] = []
        for i in range(60):
            ip = ip6(rng) if i % 3 == 0 else ip4(rng)
            name = bigmail_name(rng, i)
            servers.append(_Client(name, ip, name, "bigmail.example", "freemail"))
        for i in range(40):
            ip = ip6(rng) if i % 2 else ip4(rng)
            name = outlook_name(rng, i)
            servers.append(_Client(name, ip, name, "outlook.example", "freemail"))
        for i in range(200):
            esp = rng.choice(_ESPS)
            name = esp_name(rng, i, esp)
            servers.append(_Client(name, ip4(rng), name, esp, "esp"))
        for domain in self.net.domains[5:]:
            name = org_name(rng, domain)
            servers.append(_Client(name, ip4(rng), name, domain, "org"))
        return servers, zipf_cum_weights(len(servers))

    def _bot(self) -> _Client:
        rng = self.rng
        ip, ptr = dialup_client(rng)
        name = ptr or "unknown"
        helo = rng.choice(BOT_HELOS) if rng.random() < 0.6 else (f"[{ip}]" if rng.random() < 0.5 else name)
        return _Client(name, ip, helo if helo != "unknown" else "localhost")

    def server(self) -> _Client:
        return self.rng.choices(self.servers, cum_weights=self.server_weights)[0]

    def bot(self) -> _Client:
        bot = self.rng.choice(self.bots) if self.rng.random() < 0.5 else self._bot()
        self.recent_bot = bot
        return bot

    def local_rcpt(self) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.85:
            return rng.choice(self.users)
        if r < 0.95:
            return f"{rng.choice(ROLES)}@{rng.choice(LOCAL_DOMAINS)}"
        return f"{rng.choice(FIRST)}@{rng.choice(LOCAL_DOMAINS[1:])}"

    def qid(self) -> str:
        return f"{self.rng.getrandbits(40):010X}"

    # -- output ------------------------------------------------------------------------

    def push(self, t: float, host: _Host, program: str, pid: int | None, msg: str) -> None:
        tag = program if pid is None else f"{program}[{pid}]"
        self.emit(t, f"{host.name} {tag}: {msg}")

    def day_text(self, day: datetime) -> str:
        """BSD syslog's ``Mmm dd`` (``Mar  1``), in English whatever the locale."""
        return f"{_MONTHS[day.month - 1]} {day.day:2d}"

    def lines(self) -> Iterator[str]:
        """The log, endlessly, one line (without newline) at a time."""
        self.schedule(self.rng.uniform(0, 2), self.arrival)
        self.schedule(self.rng.uniform(0, 600), self.anvil_statistics)
        self.schedule(self.rng.uniform(0, 60), self.imap_activity)
        self.schedule(6 * 3600 + 25 * 60 + self.rng.uniform(0, 60), self.daily_reload)
        self.schedule(self.rng.uniform(3600, 43200), self.postscreen_cache_cleanup)
        yield from self.run()

    # -- jobs: hosts and periodic lines ------------------------------------------

    def host(self) -> _Host:
        if len(self.hosts) == 1:
            return self.hosts[0]
        return self.hosts[min(int(self.rng.expovariate(1.2)), len(self.hosts) - 1)]

    def anvil_statistics(self, t: float) -> None:
        rng = self.rng
        for host in self.hosts:
            bot = self.recent_bot
            seen = self.stamp(t - rng.uniform(5, 590))
            stats = [
                f"max connection rate {rng.randint(2, 30)}/60s for (smtp:{bot.ip}) at {seen}",
                f"max connection count {rng.randint(2, 12)} for (smtp:{bot.ip}) at {seen}",
            ]
            if rng.random() < 0.3:
                stats.append(f"max message rate {rng.randint(2, 9)}/60s for (submission:{ip4(rng)}) at {seen}")
            stats.append(f"max cache size {rng.randint(3, 60)} at {self.stamp(t - rng.uniform(5, 590))}")
            for i, text in enumerate(stats):
                self.push(t + i * 0.001, host, "postfix/anvil", host.anvil, f"statistics: {text}")
            if rng.random() < 0.2:
                host.anvil = host.new_pid()
        self.schedule(t + 600 + rng.uniform(0, 20), self.anvil_statistics)

    def imap_activity(self, t: float) -> None:
        """dovecot, a program loganalyzer does not model."""
        rng = self.rng
        host = self.host()
        user = rng.choice(self.users)
        session = f"{rng.getrandbits(72):018x}"
        ip = ip4(rng)
        mpid = host.new_pid()
        if rng.random() < 0.12:
            who = rng.choice(BRUTE_USERS)
            self.push(
                t,
                host,
                "dovecot",
                None,
                f"imap-login: Disconnected: Connection closed (auth failed, "
                f"{rng.randint(1, 3)} attempts in {rng.randint(2, 12)} secs): user=<{who}>, method=PLAIN, "
                f"rip={self.bot().ip}, lip={host.local_ip}, TLS, session=<{session}>",
            )
        else:
            self.push(
                t,
                host,
                "dovecot",
                None,
                f"imap-login: Login: user=<{user}>, method=PLAIN, rip={ip}, "
                f"lip={host.local_ip}, mpid={mpid}, TLS, session=<{session}>",
            )
            self.push(
                t + rng.uniform(2, 900),
                host,
                "dovecot",
                None,
                f"imap({user})<{mpid}><{session}>: Logged out "
                f"in={rng.randint(80, 9000)} out={rng.randint(500, 900000)} deleted=0 expunged=0 trashed=0 "
                f"hdr_count=0 hdr_bytes=0 body_count={rng.randint(0, 9)} body_bytes={rng.randint(0, 90000)}",
            )
        self.schedule(t + rng.expovariate(0.02), self.imap_activity)

    def daily_reload(self, t: float) -> None:
        for host in self.hosts:
            self.push(t, host, "postfix/postfix-script", host.new_pid(), "refreshing the Postfix mail system")
            self.push(
                t + 0.01, host, "postfix/master", host.master, "reload -- version 3.7.11, configuration /etc/postfix"
            )
            host.qmgr = host.new_pid()
            host.anvil = host.new_pid()
            host.pools.clear()
        self.schedule(t + 86400 + self.rng.uniform(-30, 30), self.daily_reload)

    def postscreen_cache_cleanup(self, t: float) -> None:
        rng = self.rng
        for host in self.hosts:
            self.push(
                t,
                host,
                "postfix/postscreen",
                host.postscreen,
                f"cache btree:/var/lib/postfix/postscreen_cache full cleanup: retained={rng.randint(900, 9000)} "
                f"dropped={rng.randint(10, 900)} entries",
            )
        self.schedule(t + 43200 + rng.uniform(-60, 60), self.postscreen_cache_cleanup)

    # -- smtpd sessions ---------------------------------------------------------------

    def connect(self, t: float, client: _Client, program: str = "postfix/smtpd", host: _Host | None = None) -> _Conn:
        host = host or self.host()
        conn = _Conn(self, host, program, client, t)
        if client.name == "unknown" and ":" not in client.ip and self.rng.random() < 0.08:
            dashed = client.ip.replace(".", "-")
            fake = f"{self.rng.choice(('host', 'ip', 'dyn'))}-{dashed}.{self.rng.choice(WORDS)}.example.net"
            conn.log(f"warning: hostname {fake} does not resolve to address {client.ip}: Name or service not known")
        conn.log(f"connect from {client.addr}")
        return conn

    def ehlo_tls(self, conn: _Conn, p_tls: float) -> bool:
        rng = self.rng
        conn.cmds.add("ehlo")
        if rng.random() >= p_tls:
            return False
        trust = "Untrusted" if rng.random() < 0.05 else "Anonymous"
        conn.log(
            f"{trust} TLS connection established from {conn.client.addr}: {weighted(rng, _TLS_IN)}",
            rng.uniform(0.02, 0.4),
        )
        conn.cmds.add("starttls")
        conn.cmds.add("ehlo")
        return True

    def whatsup(self, conn: _Conn, sender: str, rcpt: str) -> str:
        return f"from=<{sender}> to=<{rcpt}> proto=ESMTP helo=<{conn.client.helo}>"

    def reject(self, conn: _Conn, qid: str | None, code: str, text: str, sender: str, rcpt: str) -> None:
        conn.log(
            f"{qid or 'NOQUEUE'}: reject: RCPT from {conn.client.addr}: {code} {text}; "
            f"{self.whatsup(conn, sender, rcpt)}",
            self.rng.uniform(0.01, 0.4),
        )
        conn.cmds.add("rcpt", ok=False)

    def finish_rejected(self, conn: _Conn) -> None:
        """After a rejected transaction: DATA anyway, RSET, QUIT, or just hang up."""
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            conn.cmds.add("data", ok=False)
        if r < 0.15:
            conn.cmds.add("rset")
        if r < 0.8:
            conn.cmds.add("quit")
        elif r < 0.9:
            conn.log(f"lost connection after RCPT from {conn.client.addr}", rng.uniform(0.01, 2))
        conn.disconnect(rng.uniform(0.001, 0.3))

    def inbound_session(
        self,
        t: float,
        client: _Client | None = None,
        *,
        host: _Host | None = None,
        retry: tuple[str, str, float] | None = None,
    ) -> None:
        """A legitimate delivery to our domains on port 25: one or a few messages.

        ``retry`` is the (sender, recipient, delay) of a greylisted first attempt
        that this session retries.
        """
        rng = self.rng
        client = client or self.server()
        conn = self.connect(t, client, "postfix/smtpd", host)
        self.ehlo_tls(conn, 0.8 if client.kind != "org" else 0.6)
        nmsg = 1 if rng.random() < 0.9 else rng.randint(2, 4)
        for i in range(nmsg):
            sender = retry[0] if retry and i == 0 else self.net.sender(client.kind, client.domain)
            if i == 0 and rng.random() < 0.1:
                self.push(
                    conn.t + 0.05,
                    conn.host,
                    "policyd-spf",
                    conn.host.new_pid(),
                    f"prepend Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip={client.ip}; "
                    f"helo={client.helo}; envelope-from={sender}; receiver={self.rng.choice(LOCAL_DOMAINS)} ",
                )
            nrcpt = 1 if rng.random() < 0.8 else rng.randint(2, 6)
            rcpts = [self.local_rcpt() for _ in range(nrcpt)]
            if retry and i == 0:
                rcpts[0] = retry[1]
            conn.cmds.add("mail")
            conn.t += rng.uniform(0.02, 0.6)
            qid = None
            accepted: list[str] = []
            for j, rcpt in enumerate(rcpts):
                if retry and i == 0 and j == 0:
                    self.push(
                        conn.t,
                        conn.host,
                        "postgrey",
                        conn.host.postgrey,
                        f"action=pass, reason=triplet found, delay={int(retry[2])}, "
                        f"client_name={client.name}, client_address={client.ip}/32, sender={sender}, "
                        f"recipient={rcpt}",
                    )
                elif rng.random() < 0.15:
                    self.push(
                        conn.t,
                        conn.host,
                        "postgrey",
                        conn.host.postgrey,
                        f"action=pass, reason=client AWL, client_name={client.name}, "
                        f"client_address={client.ip}/32, sender={sender}, recipient={rcpt}",
                    )
                if j > 0 and rng.random() < 0.05:
                    self.reject(
                        conn,
                        qid,
                        "550 5.1.1",
                        f"<{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
                        sender,
                        rcpt,
                    )
                    continue
                accepted.append(rcpt)
                conn.cmds.add("rcpt")
                if qid is None:
                    qid = self.qid()
                    conn.log(f"{qid}: client={client.addr}", rng.uniform(0.005, 0.05))
            if qid is None:
                conn.cmds.add("data", ok=False)
                continue
            arrival = conn.t
            msg = _Message(
                conn.host,
                qid,
                sender,
                accepted,
                message_size(rng),
                f"<{message_id(rng, self.start, client.domain, t)}>",
                arrival,
                inbound=True,
                client_ip=client.ip,
            )
            conn.t += rng.uniform(0.05, 0.5) + msg.size / rng.uniform(2e5, 5e6)
            if rng.random() < 0.003:
                self.push(
                    conn.t,
                    conn.host,
                    "postfix/cleanup",
                    conn.host.pool("postfix/cleanup").take(conn.t),
                    f"{qid}: reject: header Subject: =?UTF-8?B?WW91IGhhdmUgd29u?= from {client.addr}; "
                    f"{self.whatsup(conn, sender, accepted[0])}: 5.7.1 message content rejected",
                )
                conn.cmds.add("data", ok=False)
                continue
            conn.cmds.add("data" if rng.random() < 0.7 else "bdat")
            self.cleanup(msg, conn.t)
            self.milters(msg, conn.t + 0.002, signed=False)
            active = conn.t + rng.uniform(0.003, 0.05)
            self.attempt(msg, active, msg.rcpts, 1)
            conn.t = active
        if rng.random() < 0.95:
            conn.cmds.add("quit")
        conn.disconnect(rng.uniform(0.001, 0.2))

    def greylist_session(self, t: float) -> None:
        """First attempt from an unknown triplet: postgrey says greylist, smtpd says 450."""
        rng = self.rng
        legit = rng.random() < 0.75
        client = self.server() if legit else self.bot()
        conn = self.connect(t, client)
        self.ehlo_tls(conn, 0.7 if legit else 0.2)
        sender = self.net.sender(client.kind, client.domain) if legit else self.net.spam_sender()
        rcpt = self.local_rcpt()
        conn.cmds.add("mail")
        conn.t += rng.uniform(0.02, 0.5)
        self.push(
            conn.t,
            conn.host,
            "postgrey",
            conn.host.postgrey,
            f"action=greylist, reason=new, client_name={client.name}, client_address={client.ip}/32, "
            f"sender={sender}, recipient={rcpt}",
        )
        domain = rcpt.split("@", 1)[1]
        self.reject(
            conn,
            None,
            "450 4.2.0",
            f"<{rcpt}>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/{domain}.html",
            sender,
            rcpt,
        )
        self.finish_rejected(conn)
        if legit and rng.random() < 0.9:
            delay = rng.uniform(300, 1800) if rng.random() < 0.8 else rng.uniform(1800, 7200)
            host = conn.host

            def again(when: float) -> None:
                self.inbound_session(when, client, host=host, retry=(sender, rcpt, when - t))

            self.schedule(t + delay, again)

    def dnsbl_session(self, t: float) -> None:
        rng = self.rng
        client = self.bot()
        conn = self.connect(t, client)
        self.ehlo_tls(conn, 0.15)
        conn.cmds.add("mail")
        for _ in range(1 if rng.random() < 0.85 else rng.randint(2, 4)):
            rcpt = self.local_rcpt()
            lst, why = (
                ("zen.spamhaus.org", f"https://www.spamhaus.org/query/ip/{client.ip}")
                if rng.random() < 0.8
                else ("bl.spamcop.net", f"Blocked - see https://www.spamcop.net/bl.shtml?{client.ip}")
            )
            self.reject(
                conn,
                None,
                "554 5.7.1",
                f"Service unavailable; Client host [{client.ip}] blocked using {lst}; {why}",
                self.net.spam_sender(),
                rcpt,
            )
        self.finish_rejected(conn)

    def relay_session(self, t: float) -> None:
        client = self.bot()
        conn = self.connect(t, client)
        self.ehlo_tls(conn, 0.1)
        conn.cmds.add("mail")
        sender = self.net.spam_sender()
        for _ in range(1 if self.rng.random() < 0.8 else self.rng.randint(2, 5)):
            rcpt = self.net.recipient()
            self.reject(conn, None, "554 5.7.1", f"<{rcpt}>: Relay access denied", sender, rcpt)
        self.finish_rejected(conn)

    def unknown_user_session(self, t: float) -> None:
        """Backscatter and dictionary attacks: recipients that do not exist."""
        rng = self.rng
        client = self.bot() if rng.random() < 0.7 else self.server()
        conn = self.connect(t, client)
        self.ehlo_tls(conn, 0.3)
        conn.cmds.add("mail")
        sender = self.net.spam_sender() if client.kind == "bot" else self.net.sender(client.kind, client.domain)
        n = 1 if rng.random() < 0.85 else rng.randint(2, 14)
        for i in range(n):
            if i >= 10:
                conn.log(f"too many errors after RCPT from {client.addr}", rng.uniform(0.05, 1))
                conn.disconnect()
                return
            domain = rng.choice(LOCAL_DOMAINS)
            rcpt = f"{rng.choice(FIRST + ROLES)}{rng.choice(('', '.', '_'))}{rng.choice(LAST)}@{domain}"
            table = "local recipient table" if domain == "lists.example.com" else "virtual mailbox table"
            self.reject(
                conn, None, "550 5.1.1", f"<{rcpt}>: Recipient address rejected: User unknown in {table}", sender, rcpt
            )
        self.finish_rejected(conn)

    def policy_reject_session(self, t: float) -> None:
        """Rejects of HELO, client hostname or sender domain."""
        rng = self.rng
        client = self.bot()
        conn = self.connect(t, client)
        self.ehlo_tls(conn, 0.1)
        conn.cmds.add("mail")
        sender = self.net.spam_sender()
        rcpt = self.local_rcpt()
        r = rng.random()
        if r < 0.35 and "." not in client.helo:
            code, text = "504 5.5.2", f"<{client.helo}>: Helo command rejected: need fully-qualified hostname"
        elif r < 0.7 and client.name == "unknown":
            code, text = "450 4.7.25", f"Client host rejected: cannot find your hostname, [{client.ip}]"
        elif r < 0.85 and sender:
            bad = sender.split("@", 1)[0] + f"@{rng.choice(WORDS)}{rng.randint(10, 99)}.invalid"
            code, text, sender = "450 4.1.8", f"<{bad}>: Sender address rejected: Domain not found", bad
        else:
            code, text = "554 5.7.1", f"<{sender}>: Sender address rejected: Access denied"
        self.reject(conn, None, code, text, sender, rcpt)
        self.finish_rejected(conn)

    def probe_session(self, t: float) -> None:
        """Scanners and bots that connect and leave."""
        rng = self.rng
        client = self.bot()
        conn = self.connect(t, client)
        r = rng.random()
        if r < 0.45:
            conn.log(f"lost connection after CONNECT from {client.addr}", rng.uniform(0.01, 1))
        elif r < 0.7:
            conn.cmds.add("ehlo")
            conn.cmds.add("quit")
        elif r < 0.85:
            conn.cmds.add("ehlo")
            conn.log(f"lost connection after EHLO from {client.addr}", rng.uniform(0.05, 3))
        else:
            conn.log(f"timeout after CONNECT from {client.addr}", 300 + rng.uniform(0, 0.5))
        conn.disconnect(rng.uniform(0.0005, 0.01))

    def brute_force_session(self, t: float) -> None:
        """SASL password guessing, on submission (587/465) or on port 25."""
        rng = self.rng
        client = self.bot()
        r = rng.random()
        program = "postfix/submission/smtpd" if r < 0.5 else "postfix/smtps/smtpd" if r < 0.65 else "postfix/smtpd"
        conn = self.connect(t, client, program)
        if program == "postfix/smtps/smtpd":
            conn.log(f"Anonymous TLS connection established from {client.addr}: {_TLS_IN[0][1]}", rng.uniform(0.05, 1))
            conn.cmds.add("ehlo")
        else:
            self.ehlo_tls(conn, 1.0 if program == "postfix/submission/smtpd" else 0.4)
        user = f"{rng.choice(BRUTE_USERS + ROLES)}@{rng.choice(LOCAL_DOMAINS)}"
        attempts = 1 if rng.random() < 0.8 else rng.randint(2, 3)
        for _ in range(attempts):
            method, reason = rng.choice(_SASL_FAILURES)
            conn.log(
                f"warning: {client.addr}: SASL {method} authentication failed: {reason.format(user=user)}",
                rng.uniform(1, 4),
            )
            conn.cmds.add("auth", ok=False)
        end = rng.random()
        if end < 0.6:
            conn.log(f"lost connection after AUTH from {client.addr}", rng.uniform(0.01, 0.5))
        elif end < 0.9:
            conn.cmds.add("quit")
        else:
            conn.cmds.add("rset")
            conn.cmds.add("quit")
        conn.disconnect(rng.uniform(0.0005, 0.01))

    def tls_failure_session(self, t: float) -> None:
        rng = self.rng
        client = self.bot() if rng.random() < 0.7 else self.server()
        program = "postfix/submission/smtpd" if rng.random() < 0.3 else "postfix/smtpd"
        conn = self.connect(t, client, program)
        conn.cmds.add("ehlo")
        reason, error = rng.choice(_TLS_ERRORS)
        conn.log(f"SSL_accept error from {client.addr}: {reason}", rng.uniform(0.05, 1))
        conn.log(f"warning: TLS library problem: {error}")
        conn.log(f"lost connection after STARTTLS from {client.addr}")
        conn.cmds.add("starttls", ok=False)
        conn.disconnect(rng.uniform(0.0005, 0.01))

    def protocol_error_session(self, t: float) -> None:
        rng = self.rng
        client = self.bot()
        conn = self.connect(t, client)
        r = rng.random()
        if r < 0.35:
            conn.log(f"warning: non-SMTP command from {client.addr}: GET / HTTP/1.1", rng.uniform(0.05, 1))
            conn.cmds.add("unknown", ok=False)
        elif r < 0.65:
            conn.cmds.add("ehlo")
            conn.log(
                f"improper command pipelining after EHLO from {client.addr}: MAIL FROM:<{self.net.spam_sender()}>"
                f"\\r\\nRCPT TO:<{self.local_rcpt()}>\\r\\nDATA\\r\\n",
                rng.uniform(0.05, 1),
            )
            conn.cmds.add("mail")
            self.reject(
                conn,
                None,
                "554 5.7.1",
                f"Service unavailable; Client host [{client.ip}] blocked using "
                f"zen.spamhaus.org; https://www.spamhaus.org/query/ip/{client.ip}",
                self.net.spam_sender(),
                self.local_rcpt(),
            )
            conn.cmds.add("data", ok=False)
        elif r < 0.85:
            conn.cmds.add("ehlo")
            conn.cmds.add("mail")
            conn.cmds.add("rcpt")
            conn.cmds.add("data")
            conn.log(f"timeout after DATA ({rng.randint(1, 64) * 1024} bytes) from {client.addr}", 300)
        else:
            conn.log(
                f"warning: Connection rate limit exceeded: {rng.randint(31, 90)} from {client.addr} for service smtp",
                0.001,
            )
        conn.disconnect(rng.uniform(0.0005, 0.01))

    def submission_session(self, t: float) -> None:
        """An authenticated user of ours sends mail (port 587)."""
        rng = self.rng
        user = rng.choice(self.users)
        ip, name, helo = user_client(rng, user)
        client = _Client(name or "unknown", ip, helo, "example.com", "user")
        conn = self.connect(t, client, "postfix/submission/smtpd")
        self.ehlo_tls(conn, 1.0)
        conn.cmds.add("auth")
        conn.t += rng.uniform(0.05, 0.4)
        conn.cmds.add("mail")
        n = 1 if rng.random() < 0.7 else rng.randint(2, 8)
        rcpts = [self.net.recipient() if rng.random() < 0.8 else self.local_rcpt() for _ in range(n)]
        conn.cmds.add("rcpt", n=n)
        qid = self.qid()
        conn.log(
            f"{qid}: client={client.addr}, sasl_method={rng.choice(('PLAIN', 'PLAIN', 'LOGIN'))}, sasl_username={user}",
            rng.uniform(0.02, 0.2),
        )
        size = message_size(rng)
        msg = _Message(conn.host, qid, user, rcpts, size, f"<{message_id(rng, self.start, 'example.com', t)}>", conn.t)
        conn.t += rng.uniform(0.05, 0.5) + msg.size / rng.uniform(1e5, 2e6)
        conn.cmds.add("data")
        self.cleanup(msg, conn.t)
        self.milters(msg, conn.t + 0.002, signed=True)
        active = conn.t + rng.uniform(0.003, 0.05)
        self.attempt(msg, active, msg.rcpts, 1)
        conn.cmds.add("quit")
        conn.disconnect(rng.uniform(0.001, 0.1) + active - conn.t)

    def postscreen_session(self, t: float) -> None:
        rng = self.rng
        host = self.host()
        client = self.bot() if rng.random() < 0.85 else self.server()
        port = rng.randint(1024, 65535)
        peer = f"[{client.ip}]:{port}"

        def log(msg: str, dt: float = 0.0) -> float:
            nonlocal t
            t += dt
            self.push(t, host, "postfix/postscreen", host.postscreen, msg)
            return t

        log(f"CONNECT from {peer} to [{host.local_ip}]:25")
        r = rng.random()
        if client.kind != "bot" or r < 0.2:
            log(f"PASS NEW {peer}", rng.uniform(6, 7))
            if client.kind != "bot":
                self.inbound_session(t + 0.001, client, host=host)
                return
            log(f"DISCONNECT {peer}", rng.uniform(0.1, 2))
            return
        if r < 0.5:
            log(
                f"PREGREET {rng.choice((11, 14, 19, 22))} after {rng.uniform(0, 1.5):.2f} from {peer}: "
                f"EHLO {client.helo}\\r\\n",
                rng.uniform(0, 1.5),
            )
        elif r < 0.8:
            dnsblog = host.pool("postfix/dnsblog").take(t)
            self.push(
                t + 0.05,
                host,
                "postfix/dnsblog",
                dnsblog,
                f"addr {client.ip} listed by domain zen.spamhaus.org as 127.0.0.{rng.choice((2, 3, 4, 4, 9))}",
            )
            host.pool("postfix/dnsblog").release(dnsblog, t + 0.05)
            log(f"DNSBL rank {rng.randint(3, 8)} for {peer}", rng.uniform(0.1, 6))
            log(
                f"NOQUEUE: reject: RCPT from {peer}: 550 5.7.1 Service unavailable; client [{client.ip}] blocked "
                f"using zen.spamhaus.org; from=<{self.net.spam_sender()}>, to=<{self.local_rcpt()}>, proto=ESMTP, "
                f"helo=<{client.helo}>",
                rng.uniform(0.2, 3),
            )
        else:
            log(
                f"HANGUP after {rng.uniform(0.5, 6):.1f} from {peer} in tests before SMTP handshake",
                rng.uniform(0.5, 6),
            )
        log(f"DISCONNECT {peer}", rng.uniform(0, 0.5))

    def pickup_session(self, t: float) -> None:
        """Local mail (cron, monitoring) submitted with sendmail(1)."""
        rng = self.rng
        host = self.host()
        qid = self.qid()
        uid, who = rng.choice(((0, "root"), (33, "www-data"), (1000, "backup"), (0, "root")))
        pid = host.pool("postfix/pickup").take(t)
        self.push(t, host, "postfix/pickup", pid, f"{qid}: uid={uid} from=<{who}>")
        host.pool("postfix/pickup").release(pid, t)
        rcpt = f"root@{host.fqdn}" if rng.random() < 0.7 else self.net.recipient()
        stamp = (self.start + timedelta(seconds=t)).strftime("%Y%m%d%H%M%S")
        msg = _Message(
            host, qid, f"{who}@{host.fqdn}", [rcpt], rng.randint(600, 20000), f"<{stamp}.{qid}@{host.fqdn}>", t
        )
        self.cleanup(msg, t + 0.005)
        self.attempt(msg, t + rng.uniform(0.01, 0.05), msg.rcpts, 1)

    # -- queue: cleanup, qmgr, deliveries, bounces -----------------------------------

    def cleanup(self, msg: _Message, t: float) -> None:
        pool = msg.host.pool("postfix/cleanup")
        pid = pool.take(t)
        self.push(t, msg.host, "postfix/cleanup", pid, f"{msg.qid}: message-id={msg.mid}")
        pool.release(pid, t + 0.01)

    def milters(self, msg: _Message, t: float, *, signed: bool) -> None:
        rng = self.rng
        host = msg.host
        if signed:
            self.push(
                t, host, "opendkim", host.opendkim, f"{msg.qid}: DKIM-Signature field added (s=mail, d=example.com)"
            )
            return
        r = rng.random()
        if r < 0.6:
            result = "DKIM verification successful"
        elif r < 0.63:
            result = "bad signature data"
        elif r < 0.65:
            domain = msg.sender.rsplit("@", 1)[-1] or "example.net"
            result = f"key retrieval failed (s=selector1, d={domain}): 'selector1._domainkey.{domain}' query timed out"
        else:
            result = ""
        if result:
            self.push(t, host, "opendkim", host.opendkim, f"{msg.qid}: {result}")
        if rng.random() < 0.95 and "@" in msg.sender:
            domain = msg.sender.rsplit("@", 1)[1]
            verdict = "pass" if r < 0.6 else rng.choice(("none", "none", "fail"))
            self.push(t + 0.001, host, "opendmarc", host.opendmarc, f"{msg.qid}: {domain} {verdict}")

    def attempt(self, msg: _Message, t: float, rcpts: list[str], attempt: int) -> None:
        """qmgr activates ``msg``; deliver ``rcpts``; retry, bounce and remove as needed."""
        rng = self.rng
        host = msg.host
        self.push(
            t,
            host,
            "postfix/qmgr",
            host.qmgr,
            f"{msg.qid}: from=<{msg.sender}>, size={msg.size}, nrcpt={len(msg.rcpts)} (queue active)",
        )
        if msg.inbound and not msg.filtered and rng.random() < 0.2:
            self.amavis(msg, t)
            return
        done = t
        deferred: list[str] = []
        bounced: list[str] = []
        by_domain: dict[str, list[str]] = {}
        for rcpt in rcpts:
            by_domain.setdefault(rcpt.rsplit("@", 1)[1], []).append(rcpt)
        for domain, group in by_domain.items():
            if domain in _LOCAL_TRANSPORT or domain == host.fqdn:
                outcomes = [self.deliver_local(msg, r, t, domain) for r in group]
            else:
                outcomes = self.deliver_remote(msg, group, t, domain, attempt)
            for rcpt, (status, when) in zip(group, outcomes, strict=True):
                done = max(done, when)
                if status == "deferred":
                    deferred.append(rcpt)
                elif status == "bounced":
                    bounced.append(rcpt)
        if bounced:
            self.notify(msg, done + rng.uniform(0.001, 0.02))
            done += 0.03
        if deferred:
            if done - msg.arrival > 5 * 86400:
                self.push(
                    done + 0.01,
                    host,
                    "postfix/qmgr",
                    host.qmgr,
                    f"{msg.qid}: from=<{msg.sender}>, status=expired, returned to sender",
                )
                self.notify(msg, done + 0.02)
            else:
                backoff = min(300 * 2 ** (attempt - 1), 4000) * rng.uniform(0.9, 1.3)

                def retry(when: float) -> None:
                    self.attempt(msg, when, deferred, attempt + 1)

                self.schedule(done + backoff, retry)
                return
        self.push(done + rng.uniform(0.001, 0.02), host, "postfix/qmgr", host.qmgr, f"{msg.qid}: removed")

    def delays(self, msg: _Message, t: float, connect: float, transmit: float) -> tuple[str, float]:
        before = t - msg.arrival
        in_queue = self.rng.uniform(0, 0.02)
        total = before + in_queue + connect + transmit
        text = (
            f"delay={_fmt_delay(total)}, delays={_fmt_delay(before)}/{_fmt_delay(in_queue)}/"
            f"{_fmt_delay(connect)}/{_fmt_delay(transmit)}"
        )
        return text, msg.arrival + total

    def deliver_local(self, msg: _Message, rcpt: str, t: float, domain: str) -> tuple[str, float]:
        rng = self.rng
        host = msg.host
        transport = _LOCAL_TRANSPORT.get(domain, "local")
        program = f"postfix/{transport}"
        pool = host.pool(program)
        pid = pool.take(t)
        delay, when = self.delays(msg, t, rng.uniform(0, 0.01), rng.uniform(0.005, 0.3))
        r = rng.random()
        orig = ""
        if transport == "lmtp":
            relay = f"{host.fqdn}[private/dovecot-lmtp]"
            if r < 0.985:
                status, dsn = "sent", "2.0.0"
                reason = f"250 2.0.0 <{rcpt}> {token(rng, 22)} Saved"
            elif r < 0.995:
                status, dsn = "deferred", "4.2.2"
                reason = (
                    f"host {relay} said: 452 4.2.2 <{rcpt}> Quota exceeded (mailbox for user is full) "
                    "(in reply to end of DATA command)"
                )
            else:
                status, dsn = "bounced", "5.2.2"
                reason = f"host {relay} said: 552 5.2.2 <{rcpt}> Mailbox is full (in reply to end of DATA command)"
        elif transport == "virtual":
            relay, status, dsn, reason = "virtual", "sent", "2.0.0", "delivered to maildir"
        else:
            relay, status, dsn = "local", "sent", "2.0.0"
            reason = "delivered to mailbox" if rng.random() < 0.7 else "delivered to command: /usr/bin/procmail"
            if domain == host.fqdn or rcpt.startswith(("postmaster@", "root@")):
                orig = f" orig_to=<{rcpt.split('@', 1)[0] if domain == host.fqdn else rcpt}>,"
                rcpt = f"admin@{host.fqdn}"
        self.push(
            when,
            host,
            program,
            pid,
            f"{msg.qid}: to=<{rcpt}>,{orig} relay={relay}, {delay}, dsn={dsn}, status={status} ({reason})",
        )
        if transport == "lmtp" and status == "sent" and rng.random() < 0.1:
            session = f"{rng.getrandbits(96):024x}"
            self.push(
                when - 0.001,
                host,
                "dovecot",
                None,
                f"lmtp({rcpt})<{host.new_pid()}><{session}>: msgid={msg.mid}: saved mail to INBOX",
            )
        pool.release(pid, when)
        return status, when

    def deliver_remote(
        self, msg: _Message, rcpts: list[str], t: float, domain: str, attempt: int
    ) -> list[tuple[str, float]]:
        """One smtp(8) connection to ``domain``'s MX for all of ``rcpts``."""
        rng = self.rng
        host = msg.host
        pool = host.pool("postfix/smtp")
        pid = pool.take(t)
        mx, mx_ip = self.net.mx(domain)
        relay = f"{mx}[{mx_ip}]:25"
        out: list[tuple[str, float]] = []
        r = rng.random()
        if domain in self.net.dead or (attempt == 1 and r < 0.03):
            connect = rng.uniform(30, 31) if rng.random() < 0.8 else rng.uniform(0.05, 0.4)
            why = "Connection timed out" if connect > 1 else "Connection refused"
            if attempt > 2 and rng.random() < 0.5:
                reason = f"delivery temporarily suspended: connect to {relay}: {why}"
            else:
                self.push(t + connect, host, "postfix/smtp", pid, f"connect to {relay}: {why}")
                reason = f"connect to {relay}: {why}"
            for rcpt in rcpts:
                delay, when = self.delays(msg, t, connect, 0)
                self.push(
                    when,
                    host,
                    "postfix/smtp",
                    pid,
                    f"{msg.qid}: to=<{rcpt}>, relay=none, {delay}, dsn=4.4.1, status=deferred ({reason})",
                )
                out.append(("deferred", when))
            pool.release(pid, t + connect)
            return out
        connect = rng.uniform(0.05, 1.5)
        if rng.random() < 0.8:
            trust = rng.choice(("Trusted", "Verified", "Untrusted"))
            self.push(
                t + connect * 0.9,
                host,
                "postfix/smtp",
                pid,
                f"{trust} TLS connection established to {relay}: {rng.choice(_TLS_OUT)}",
            )
        last = t
        for rcpt in rcpts:
            transmit = rng.uniform(0.05, 1.0) + msg.size / rng.uniform(5e5, 1e7)
            delay, when = self.delays(msg, t, connect, transmit)
            r = rng.random()
            if r < 0.965 or (attempt > 1 and r < 0.99):
                status, dsn = "sent", "2.0.0"
                template = rng.choice(_ESP_REPLIES)
                reason = template.format(epoch=1740787200 + int(t), mid=msg.mid, **reply_fields(rng))
            elif r < 0.985:
                status, dsn = "deferred", "4.2.0"
                reason = (
                    f"host {mx}[{mx_ip}] said: 450 4.2.0 <{rcpt}>: Recipient address rejected: Greylisted, "
                    f"see http://postgrey.schweikert.ch/help/{domain}.html (in reply to RCPT TO command)"
                )
            else:
                status, dsn = "bounced", "5.1.1"
                reason = (
                    f"host {mx}[{mx_ip}] said: 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown "
                    "(in reply to RCPT TO command)"
                )
            self.push(
                when,
                host,
                "postfix/smtp",
                pid,
                f"{msg.qid}: to=<{rcpt}>, relay={relay}, {delay}, dsn={dsn}, status={status} ({reason})",
            )
            out.append((status, when))
            last = max(last, when)
        pool.release(pid, last)
        return out

    def amavis(self, msg: _Message, t: float) -> None:
        """Content filter: smtp to amavis on :10024, re-injection on :10025 as a new queue id."""
        rng = self.rng
        host = msg.host
        scan = rng.uniform(0.3, 4.0)
        qid2 = self.qid()
        local = _Client("localhost", "127.0.0.1", host.fqdn, "example.com", "org")
        conn = _Conn(self, host, "postfix/smtpd", local, t + scan * 0.8, service="127.0.0.1:10025")
        conn.log(f"connect from {local.addr}")
        conn.log(f"{qid2}: client={local.addr}", 0.001)
        clean = rng.random() < 0.9
        verdict = "Passed CLEAN {RelayedInbound}" if clean else "Passed SPAMMY {RelayedTaggedInbound}"
        hits = rng.uniform(-3, 2.5) if clean else rng.uniform(5, 12)
        msg2 = _Message(
            host,
            qid2,
            msg.sender,
            list(msg.rcpts),
            msg.size + rng.randint(300, 900),
            msg.mid,
            msg.arrival,
            inbound=True,
            client_ip=msg.client_ip,
            filtered=True,
        )
        self.cleanup(msg2, conn.t + 0.002)
        conn.cmds.add("ehlo")
        conn.cmds.add("mail")
        conn.cmds.add("rcpt", n=len(msg.rcpts))
        conn.cmds.add("data")
        conn.cmds.add("quit")
        active = conn.t + 0.004
        self.attempt(msg2, active, msg2.rcpts, 1)
        conn.disconnect(0.006)
        amavis_pid = host.amavis[rng.randrange(len(host.amavis))]
        rcpt_list = ",".join(f"<{r}>" for r in msg.rcpts)
        done = t + scan
        self.push(
            done - 0.001,
            host,
            "amavis",
            amavis_pid,
            f"({amavis_pid:05d}-{rng.randint(1, 99):02d}) {verdict}, "
            f"[{msg.client_ip}]:{rng.randint(1024, 65535)} "
            f"[{msg.client_ip}] <{msg.sender}> -> {rcpt_list}, Queue-ID: {msg.qid}, Message-ID: {msg.mid}, "
            f"mail_id: {rng.getrandbits(72):018x}, Hits: {hits:.3f}, size: {msg.size}, queued_as: {qid2}, "
            f"{int(scan * 1000)} ms",
        )
        pool = host.pool("postfix/smtp")
        pid = pool.take(t)
        for rcpt in msg.rcpts:
            delay, when = self.delays(msg, t, 0.001, scan)
            done = max(done, when)
            self.push(
                when,
                host,
                "postfix/smtp",
                pid,
                f"{msg.qid}: to=<{rcpt}>, relay=127.0.0.1[127.0.0.1]:10024, {delay}, dsn=2.0.0, status=sent "
                f"(250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as {qid2})",
            )
        pool.release(pid, done)
        self.push(done + 0.001, host, "postfix/qmgr", host.qmgr, f"{msg.qid}: removed")

    def notify(self, msg: _Message, t: float) -> None:
        """A non-delivery notification to the sender, as a new queue file."""
        if not msg.sender:
            return
        rng = self.rng
        host = msg.host
        qid2 = self.qid()
        stamp = (self.start + timedelta(seconds=t)).strftime("%Y%m%d%H%M%S")
        bounce = _Message(
            host, qid2, "", [msg.sender], msg.size // 4 + rng.randint(2000, 5000), f"<{stamp}.{qid2}@{host.fqdn}>", t
        )
        self.cleanup(bounce, t)
        pool = host.pool("postfix/bounce")
        pid = pool.take(t)
        self.push(t + 0.001, host, "postfix/bounce", pid, f"{msg.qid}: sender non-delivery notification: {qid2}")
        pool.release(pid, t + 0.001)
        self.attempt(bounce, t + rng.uniform(0.002, 0.01), bounce.rcpts, 1)


def iter_postfix_lines(seed: int = 1, *, hosts: int = 1, start: datetime | None = None) -> Iterator[str]:
    """An endless, deterministic stream of Postfix syslog lines (without newlines).

    Same ``seed`` (and ``hosts``, ``start``), same lines. Timestamps never go
    back; ``start`` (default 1 March, midnight) gives the month and day of the
    first second (BSD syslog has no year).
    """
    return _Simulator(seed, hosts, start).lines()
