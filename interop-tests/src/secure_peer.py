# A pyzmq peer for zeroring's security interop tests, configured by one JSON
# argument (see interop-tests/src/python.rs, PyPeer). It prints, one per line:
#   port N            after binding (a server), or "connected" after connecting
#   user-id X         the User-Id of the first message received (libzmq's ZAP)
#   event NAME VALUE  every handshake failure its monitor reports
#   ok                when its part is done
# and exits non-zero with the reason on stderr when something goes wrong.
import json
import sys
import threading
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

cfg = json.loads(sys.argv[1])
ctx = zmq.Context()
timeout = cfg.get("timeout_ms", 10000)


def say(*parts):
    print(*parts, flush=True)


class Keys:
    """A credentials provider for ThreadAuthenticator.configure_curve_callback."""

    def __init__(self, allowed):
        self.allowed = {k.encode() for k in allowed}

    def callback(self, domain, key):
        # pyzmq hands the key over in Z85 already (raw bytes in old releases).
        if len(key) == 32:
            key = zmq.utils.z85.encode(key)
        return key in self.allowed


auth = None
if "auth" in cfg:
    from zmq.auth.thread import ThreadAuthenticator

    a = cfg["auth"]
    auth = ThreadAuthenticator(ctx)
    auth.start()
    for ip in a.get("allow", []):
        auth.allow(ip)
    for ip in a.get("deny", []):
        auth.deny(ip)
    if "plain" in a:
        auth.configure_plain(domain="*", passwords=a["plain"])
    if a.get("any_key"):
        auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
    elif "keys" in a:
        auth.configure_curve_callback(domain="*", credentials_provider=Keys(a["keys"]))

s = ctx.socket(getattr(zmq, cfg["type"]))
s.rcvtimeo = timeout
s.sndtimeo = timeout
s.linger = 1000
if "routing_id" in cfg:
    s.routing_id = cfg["routing_id"].encode()
if "zap_domain" in cfg:
    s.zap_domain = cfg["zap_domain"].encode()
curve = cfg.get("curve")
if curve:
    s.curve_secretkey = curve["secret"].encode()
    s.curve_publickey = curve["public"].encode()
    if curve.get("server"):
        s.curve_server = True
    else:
        s.curve_serverkey = curve["serverkey"].encode()
plain = cfg.get("plain")
if plain:
    if plain.get("server"):
        s.plain_server = True
    else:
        s.plain_username = plain["username"].encode()
        s.plain_password = plain["password"].encode()

FAILURES = {
    zmq.EVENT_HANDSHAKE_FAILED_AUTH: "HANDSHAKE_FAILED_AUTH",
    zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL: "HANDSHAKE_FAILED_PROTOCOL",
    zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL: "HANDSHAKE_FAILED_NO_DETAIL",
}
watcher = None
stop_watching = threading.Event()
if cfg.get("monitor"):
    mon = s.get_monitor_socket()
    mon.rcvtimeo = 50

    def watch():
        # The monitor socket is used by this thread only, and closed here.
        while not stop_watching.is_set():
            try:
                e = recv_monitor_message(mon)
            except zmq.Again:
                continue
            except zmq.ZMQError:
                break
            name = FAILURES.get(e["event"])
            if name:
                say("event", name, e["value"])
        mon.close(linger=0)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()

if cfg.get("bind"):
    say("port", s.bind_to_random_port("tcp://127.0.0.1"))
else:
    s.connect(cfg["connect"])
    say("connected")

n = cfg.get("n", 5)
action = cfg["action"]


def recv_multipart_with_user():
    frames = s.recv_multipart(copy=False)
    try:
        user = frames[-1].get("User-Id")
    except zmq.ZMQError:
        # No ZAP handler ran: libzmq has no User-Id property for the message.
        user = None
    return frames, user


if action == "echo":
    # REP: [body] -> [BODY]; ROUTER: [id, body] -> [id, BODY].
    for i in range(n):
        frames, user = recv_multipart_with_user()
        if i == 0:
            say("user-id", user)
        parts = [f.bytes for f in frames]
        s.send_multipart(parts[:-1] + [parts[-1].upper()])
elif action == "request":
    # REQ: [body]; DEALER: ["", body], as a REQ would.
    envelope = [b""] if cfg["type"] == "DEALER" else []
    for i in range(n):
        body = b"request %d" % i
        s.send_multipart(envelope + [body])
        reply = s.recv_multipart()
        assert reply[-1] == body.upper(), reply
elif action == "publish":
    # Until the subscriber has had its messages (or the deadline).
    end = time.time() + timeout / 1000
    while time.time() < end:
        s.send_multipart([b"noise", b"x"])
        s.send_multipart([b"weather", b"sunny"])
        time.sleep(0.01)
elif action == "subscribe":
    s.setsockopt(zmq.SUBSCRIBE, b"weather")
    for i in range(n):
        topic, body = s.recv_multipart()
        assert topic == b"weather", topic
elif action == "push":
    for i in range(n):
        s.send_multipart([b"item %d" % i])
elif action == "pull":
    for i in range(n):
        frames, user = recv_multipart_with_user()
        if i == 0:
            say("user-id", user)
        assert frames[0].bytes == b"item %d" % i, frames[0].bytes
elif action == "expect_no_reply":
    # A client that must not get through: its request is never answered.
    s.rcvtimeo = cfg.get("quiet_ms", 1500)
    envelope = [b""] if cfg["type"] == "DEALER" else []
    s.send_multipart(envelope + [b"let me in"])
    try:
        s.recv_multipart()
        sys.exit("a refused client got a reply")
    except zmq.Again:
        pass
elif action == "idle":
    time.sleep(cfg.get("seconds", 1))
else:
    sys.exit("unknown action " + action)

say("ok")
if watcher:
    stop_watching.set()
    watcher.join()
s.close()
if auth:
    auth.stop()
ctx.term()
