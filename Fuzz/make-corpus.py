#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/corpus/NAME/ (Docs/fuzzing.md).

The seeds come from the test fixtures (Tests/ClusterKitTests/Fixtures) and from the small hand-written inputs
below, which cover what the fixtures do not (WebSocket frames and handshakes, Broker scalars). Each seed is named by
the SHA-1 of its bytes, as libFuzzer names the inputs it keeps. Run it from the repository's root after changing a
fixture or the seeds here; it adds files and removes none (findings added by hand stay).
"""
import base64
import glob
import hashlib
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "ClusterKitTests", "Fixtures")
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")


def write(name, data):
    if isinstance(data, str):
        data = data.encode()
    folder = os.path.join(CORPUS, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def fixtures(pattern):
    return sorted(glob.glob(os.path.join(FIXTURES, pattern), recursive=True))


# --- broker-json and json ---
def data(kind, value):
    return '{"@data-type":"%s","data":%s}' % (kind, value)


def event(name, *arguments):
    return data("vector", "[%s,%s,%s]" % (
        data("count", "1"), data("count", "1"),
        data("vector", "[%s,%s]" % (data("string", '"%s"' % name), data("vector", "[%s]" % ",".join(arguments))))))


broker_values = [
    data("none", "{}"), data("boolean", "true"), data("count", "18446744073709551615"),
    data("integer", "-9223372036854775808"), data("real", "1.5e-300"), data("string", '"caf\\u00e9 \\ud83e\\udd93"'),
    data("address", '"2001:db8::1"'), data("address", '"10.0.0.1"'), data("subnet", '"10.0.0.0/8"'),
    data("port", '"8080/tcp"'), data("port", '"0/?"'), data("timestamp", '"2024-02-29T23:59:59.123456789"'),
    data("timespan", '"1500ms"'), data("enum-value", '"Management::RUNNING"'),
    data("set", "[%s,%s]" % (data("count", "1"), data("count", "2"))),
    data("table", '[{"key":%s,"value":%s}]' % (data("string", '"k"'), data("count", "3"))),
    data("vector", "[]"),
]
for value in broker_values:
    write("broker-json", value)
    write("json", value)
for name, args in [("Cluster::hello", [data("string", '"worker-1"'), data("string", '"id"')]),
                   ("Management::Node::API::node_dispatch_request",
                    [data("string", '"r1"'), data("vector", '[%s,%s]' % (data("string", '"get_id_value"'),
                                                                          data("string", '"Cluster::node"'))),
                     data("set", "[]")]),
                   ("X::ping", [data("count", "7")])]:
    body = event(name, *args)
    write("broker-json", '{"type":"data-message","topic":"zeek/cluster/manager",%s' % body[1:])
write("broker-json", '{"type":"ack","endpoint":"e1","version":"2.8.0"}')
write("broker-json", '{"type":"error","code":"deserialization_failed","context":"bad"}')
write("broker-json", '["zeek/event/a","zeek/event/b"]')
for path in fixtures("broker-json/*.json"):
    write("broker-json", read(path))
    write("json", read(path))
for text in ['{"a":[1,-2,3.25e10,true,false,null,"\\u0041\\n"],"b":{}}', '[18446744073709551615, 1e400, -0.0]',
             '"\\ud800"', '[[[[[[[[[[]]]]]]]]]]', ' 0 ', '{"results":[{"source":"w","value":{"x":1}}]}']:
    write("json", text)
for path in fixtures("zeek-client-ini/*.out"):
    write("json", read(path))

# --- node-cfg, management-ini, layout-script ---
for case in fixtures("zeekctl-oracle/cases/*/"):
    node_cfg = read(os.path.join(case, "node.cfg"))
    extra = os.path.join(case, "zeekctl.cfg.extra")
    write("node-cfg", (read(extra) if os.path.exists(extra) else b"") + b"\0" + node_cfg)
    write("node-cfg", node_cfg)
    for layout in glob.glob(os.path.join(case, "*layout.zeek")):
        write("layout-script", read(layout))
        write("layout-script", b"#" + read(layout))
for path in fixtures("zeekctl-oracle/errors/*"):
    write("node-cfg", read(path))
write("node-cfg", b"SpoolDir = ${base}/spool\nbase = /opt\nenv_vars = A=${base}\0[worker-1]\ntype=worker\nhost=localhost\n"
      b"interface=af_packet::eth0\nlb_procs=4\nlb_method=custom\npin_cpus=0,1,2,3\nenv_vars=X=1,Y=${A}\n")
for path in fixtures("zeek-client-ini/*.ini"):
    write("management-ini", read(path))

# --- zeek-conf: single files, folders (host files joined by NUL bytes), and the generated layouts ---
for case in fixtures("zeek-conf-oracle/cases/*/"):
    if os.path.exists(os.path.join(case, "zeek.conf")):
        write("zeek-conf", read(os.path.join(case, "zeek.conf")))
    hosts = sorted(glob.glob(os.path.join(case, "cluster", "*.zeek.conf")))
    if hosts:
        write("zeek-conf", b"\0".join(read(host) for host in hosts))
    if os.path.exists(os.path.join(case, "args.txt")):
        lines = read(os.path.join(case, "args.txt")).split(b"\n")
        if b"-W" in lines and lines.index(b"-W") + 1 < len(lines):
            write("zeek-conf", lines[lines.index(b"-W") + 1] + b"\n")
    if os.path.getsize(os.path.join(case, "expected.zeek")) > 0:
        write("layout-script", read(os.path.join(case, "expected.zeek")))
write("zeek-conf", b"[zeek]\nmanager = 1\nloggers = 1\n  2\nworker_nice =\n[interface a interface b]\ninterface = x\n"
      b"workers = 3\nworkers_cpu_list = 0-8:2,1\nworkers_numa_policy = local\nworker_env =\n  A=1\n")

# --- websocket-handshake ---
request = ("GET /v1/messages/json HTTP/1.1\r\nHost: 127.0.0.1:2149\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")
write("websocket-handshake", request + "\r\n")
write("websocket-handshake", request + "Origin: http://127.0.0.1:2149\r\n\r\n")
write("websocket-handshake", request.replace("127.0.0.1:2149", "[::1]:80") + "Origin: ws://[::1]\r\n\r\n")
write("websocket-handshake", "POST / HTTP/1.0\r\nHost: x\r\n\r\n")
write("websocket-handshake", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
write("websocket-handshake", "HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden")


# --- websocket-frames: a control byte, then what the peer sends ---
def frame(opcode, payload, fin=True, mask=None):
    if isinstance(payload, str):
        payload = payload.encode()
    head = bytes([(0x80 if fin else 0) | opcode])
    bit = 0x80 if mask else 0
    if len(payload) < 126:
        head += bytes([bit | len(payload)])
    elif len(payload) < 65536:
        head += bytes([bit | 126]) + struct.pack(">H", len(payload))
    else:
        head += bytes([bit | 127]) + struct.pack(">Q", len(payload))
    if mask:
        head += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + payload


key = b"\x01\x02\x03\x04"
for is_client in (False, True):
    mask = None if is_client else key
    stream = (frame(1, '["zeek/event/a"]', mask=mask) + frame(1, "caf\u00e9", fin=False, mask=mask)
              + frame(9, "ping", mask=mask) + frame(0, " \u00e9t\u00e9", mask=mask) + frame(2, bytes(300), mask=mask)
              + frame(8, struct.pack(">H", 1000) + b"bye", mask=mask))
    for control in (0, 4 * 1, 4 * 7, 32):
        write("websocket-frames", bytes([control | int(is_client)]) + stream)
    write("websocket-frames", bytes([int(is_client)]) + frame(1, b"\xed\xa0\x80", mask=mask))
    write("websocket-frames", bytes([int(is_client)]) + frame(10, "x" * 130, mask=mask))
write("websocket-frames", bytes([2]) + request.encode() + b"\r\n" + frame(1, "hi", mask=key))
write("websocket-frames", bytes([3]) + b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      + b"Sec-WebSocket-Accept: " + base64.b64encode(hashlib.sha1(
          b"AQIDBAUGBwgJCgsMDQ4PEA==258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()) + b"\r\n\r\n" + frame(1, "hi"))

# --- broker-scalars ---
for text in ["10.0.0.1", "255.255.255.255", "::", "::1", "2001:db8::8:800:200c:417a", "::ffff:1.2.3.4", "fe80::1%eth0",
             "1.2.3.04", "10.0.0.0/8", "2001:db8::/32", "::ffff:10.0.0.0/104", "80/tcp", "53/udp", "8/icmp", "0/?",
             "2024-02-29T23:59:59.123456789", "1970-01-01T00:00:00", "-0001-12-31T00:00:00.5", "1500ms", "-3ns",
             "2.5s", "1h", "1d", "10min", "1.5us"]:
    write("broker-scalars", text)
