"""A real DNS server on loopback, serving a test zone (for the MX lookups).

Answers UDP queries from a zone given as text, authoritatively: NXDOMAIN for
names not in the zone, an empty answer (NOERROR) for names without the asked
type. It binds 127.0.0.1 on a free port, serves from a thread, and stops when
the test is done; it never talks to anything but the client that asks.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.zone


@contextmanager
def dns_server(zone_text: str, origin: str) -> Iterator[str]:
    """Serve ``zone_text`` (origin ``origin``); yields ``127.0.0.1:PORT``."""
    zone = dns.zone.from_text(zone_text, origin=origin, relativize=False, check_origin=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                wire, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            question = query.question[0]
            node = zone.get_node(question.name)
            if node is None:
                response.set_rcode(dns.rcode.NXDOMAIN)
            else:
                rdataset = node.get_rdataset(dns.rdataclass.IN, question.rdtype)
                if rdataset is not None:
                    response.answer.append(dns.rrset.from_rdata_list(question.name, rdataset.ttl, list(rdataset)))
            sock.sendto(response.to_wire(), peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=2)
        sock.close()


#: The test zone for samples/postfix/scenarios/wrong-domain-mx.log: example.org has
#: no MX (implicit MX to its A record); shop.example.org's MX is elsewhere.
TEST_ZONE = """
$TTL 300
example.org.            IN SOA ns.example.org. hostmaster.example.org. 1 3600 600 86400 300
example.org.            IN NS  ns.example.org.
ns.example.org.         IN A   192.0.2.53
example.org.            IN A   192.0.2.10
mail.example.org.       IN A   192.0.2.10
mail.example.org.       IN MX  10 mail.example.org.
shop.example.org.       IN MX  10 mx.elsewhere.example.
nomail.example.org.     IN MX  0 .
"""
