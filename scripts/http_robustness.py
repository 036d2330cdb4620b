#!/usr/bin/python3
"""http_robustness.py - hostile and broken clients against `kosearch serve`.

  http_robustness.py fuzz URL [--seconds S] [--seed N] [--key KEY]
      Send, for S seconds, a random mix of: random bytes, malformed request
      lines, bad percent-encoding, invalid UTF-8 in paths and parameters,
      oversized request lines and headers, broken Content-Length and chunked
      framing, bodies dropped midway, pipelined requests, random JSON
      documents to the write endpoints (with --key when the server has an API
      key). After every 20 cases GET /health must answer 200 within 5 s.
      Prints a summary (cases, answers by status, resets); exit 1 when the
      server stopped answering.

  http_robustness.py slow URL --mode headers|body|idle --within S [--key KEY]
      Open one connection that sends its request one byte every 0.3 s
      (headers or body) or nothing at all (idle) and check that the server
      closes it within S seconds, while GET /health on another connection
      keeps answering (each in under 1 s). Exit 0 when both hold.

Only the standard library; run with /usr/bin/python3.
"""
import argparse
import json
import random
import socket
import sys
import time
import urllib.parse


def parse_url(url):
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


def health(host, port, timeout=5.0):
    """Status of GET /health on a fresh connection (0: no answer)."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            line = data.split(b"\r\n", 1)[0].split()
            return int(line[1]) if len(line) >= 2 else 0
    except (OSError, ValueError):
        return 0


def send_raw(host, port, payload, read=True, close_early=False, timeout=1.0):
    """Send payload (bytes or list of (bytes, pause)) and return the status of
    the first answer (0: none, -1: connection reset)."""
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return -1
    try:
        parts = payload if isinstance(payload, list) else [(payload, 0)]
        for data, pause in parts:
            s.sendall(data)
            if pause:
                time.sleep(pause)
        if close_early:
            return 0
        if not read:
            return 0
        s.shutdown(socket.SHUT_WR)
        data = b""
        while len(data) < 1 << 20:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        line = data.split(b"\r\n", 1)[0].split()
        if len(line) >= 2 and line[0].startswith(b"HTTP/"):
            try:
                return int(line[1])
            except ValueError:
                return 0
        return 0
    except socket.timeout:
        return 0
    except OSError:
        return -1
    finally:
        s.close()


def rand_bytes(rng, n):
    return bytes(rng.getrandbits(8) for _ in range(n))


def rand_json(rng, depth=0):
    k = rng.randrange(7 if depth < 4 else 4)
    if k == 0:
        return rng.randrange(-2**60, 2**60)
    if k == 1:
        return rng.choice(["", "대통령", "a\u0000b", "\ud7a3" * rng.randrange(50), "x" * rng.randrange(300)])
    if k == 2:
        return None
    if k == 3:
        return rng.random() * 1e300
    if k == 4:
        return [rand_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["id", "text", "title", "x"]): rand_json(rng, depth + 1)
            for _ in range(rng.randrange(5))}


def cases(rng, key):
    """One random test case: (name, payload, options)."""
    auth = b"Authorization: Bearer " + key.encode() + b"\r\n" if key else b""
    pick = rng.randrange(16)
    if pick == 0:
        return "random bytes", rand_bytes(rng, rng.randrange(1, 4096)), {}
    if pick == 1:
        line = rng.choice([b"GARBAGE", b"GET", b"GET / HTTP/9.9", b"GET  HTTP/1.1", b" / HTTP/1.1",
                           b"GET / HTTP/1.1 extra", b"\x00\x01\x02", b"GET /\x00 HTTP/1.1",
                           b"POST /docs HTTP/1.1\r\nContent-Length: -5",
                           b"GET / HTTP/1.1\r\nHost", b"GET / HTTP/1.1\r\n: novalue"])
        return "malformed request line", line + b"\r\n\r\n", {}
    if pick == 2:
        q = rng.choice([b"%", b"%4", b"%zz", b"%FF", b"%C3%28", b"%00", b"%ED%A0%80", b"%F4%90%80%80",
                        b"%E2%82", b"a+b%2", b"\xff\xfe", b"%25%"])
        path = rng.choice([b"/search?q=", b"/docs/", b"/analyze?text=", b"/search?k=", b"/search?q=a&"])
        return "bad percent-encoding", b"GET " + path + q + b" HTTP/1.1\r\nHost: x\r\n\r\n", {}
    if pick == 3:
        n = rng.choice([8000, 40000, 200000])
        return "long request line", b"GET /search?q=" + b"a" * n + b" HTTP/1.1\r\nHost: x\r\n\r\n", {}
    if pick == 4:
        hdrs = b"".join(b"X-H%d: %s\r\n" % (i, b"v" * rng.randrange(10, 2000)) for i in range(rng.randrange(10, 200)))
        return "huge headers", b"GET /health HTTP/1.1\r\nHost: x\r\n" + hdrs + b"\r\n", {}
    if pick == 5:
        return "dropped mid-body", [(b"PUT /docs/x HTTP/1.1\r\nHost: x\r\n" + auth +
                                     b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"text\":", 0.05)], \
            {"close_early": True}
    if pick == 6:
        body = rng.choice([b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nabc\r\n0\r\n\r\n", b"ffffffffffffffff\r\n",
                           b"-1\r\n", b"3\r\nabc", b"0\r\nBad-Trailer\r\n\r\n"])
        return "broken chunked body", (b"POST /docs HTTP/1.1\r\nHost: x\r\n" + auth +
                                       b"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n" + body), {}
    if pick == 7:
        cl = rng.choice([b"abc", b"1, 2", b"99999999999999999999999", b"0x10", b"5\r\nContent-Length: 7"])
        return "bad Content-Length", (b"PUT /docs/x HTTP/1.1\r\nHost: x\r\n" + auth +
                                      b"Content-Type: application/json\r\nContent-Length: " + cl + b"\r\n\r\n{}"), {}
    if pick == 8:
        one = b"GET /search?q=%EB%8C%80 HTTP/1.1\r\nHost: x\r\n\r\n"
        return "pipelined", one * rng.randrange(2, 30) + b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {}
    if pick == 9:
        doc = json.dumps(rand_json(rng), ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        return "random PUT body", (b"PUT /docs/" + rng.choice([b"r1", b"%ED%95%9C", b"a/b", b"x" * 2000]) +
                                   b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Content-Type: application/json\r\n" +
                                   b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(doc) + doc), {}
    if pick == 10:
        lines = []
        for _ in range(rng.randrange(1, 20)):
            r = rng.random()
            if r < 0.3:
                lines.append(rand_bytes(rng, rng.randrange(1, 100)))
            elif r < 0.6:
                lines.append(json.dumps({"id": "f%d" % rng.randrange(50), "text": "문서 %d" % rng.randrange(9)}).encode())
            else:
                lines.append(json.dumps(rand_json(rng)).encode("utf-8", "surrogatepass"))
        body = b"\n".join(lines)
        return "random POST /docs", (b"POST /docs HTTP/1.1\r\nHost: x\r\n" + auth +
                                     b"Content-Type: application/x-ndjson\r\nContent-Length: %d\r\n" % len(body) +
                                     b"Connection: close\r\n\r\n" + body), {}
    if pick == 11:
        m = rng.choice([b"DELETE", b"OPTIONS", b"TRACE", b"PATCH", b"CONNECT", b"BREW", b"get"])
        p = rng.choice([b"/", b"/docs", b"/docs/x", b"/search", b"/commit", b"*", b"http://x/health"])
        return "odd method", m + b" " + p + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n", {}
    if pick == 12:
        q = urllib.parse.quote(rand_bytes(rng, rng.randrange(1, 60)), safe="").encode()
        extra = rng.choice([b"", b"&k=999999999", b"&offset=-1", b"&k1=1e309", b"&algorithm=", b"&ranking=x",
                            b"&snippet_chars=99999999", b"&k=0&offset=0"])
        return "random query", b"GET /search?q=" + q + extra + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", {}
    if pick == 13:
        return "HTTP/1.0 and HEAD", rng.choice([b"GET /search?q=a HTTP/1.0\r\n\r\n", b"HEAD /docs/x HTTP/1.1\r\nHost: x\r\n\r\n",
                                                b"GET /health\r\n\r\n"]), {}
    if pick == 14:
        q = "".join(rng.choice(['"', "+", "-", " ", "a", "대통령", "\\", "(", "*"]) for _ in range(rng.randrange(1, 40)))
        return "query syntax", (b"GET /search?q=" + urllib.parse.quote(q).encode() +
                                b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"), {}
    return "half a request, then close", [(b"GET /search?q=abc HTTP/1.1\r\nHo", 0.02)], {"close_early": True}


def fuzz(args):
    host, port = parse_url(args.url)
    rng = random.Random(args.seed)
    t_end = time.time() + args.seconds
    n = 0
    statuses = {}
    names = {}
    dead = 0
    while time.time() < t_end:
        name, payload, opts = cases(rng, args.key)
        st = send_raw(host, port, payload, **opts)
        statuses[st] = statuses.get(st, 0) + 1
        names[name] = names.get(name, 0) + 1
        n += 1
        if n % 20 == 0:
            h = health(host, port)
            if h != 200:
                dead += 1
                print("health check failed after case %d (%s): %s" % (n, name, h))
                if dead >= 3:
                    break
    h = health(host, port)
    print("cases: %d; answers by status: %s" % (n, ", ".join("%s: %d" % (k, v) for k, v in sorted(statuses.items()))))
    print("kinds: %s" % ", ".join("%s %d" % (k, v) for k, v in sorted(names.items())))
    print("final health: %s; failed health checks: %d" % (h, dead))
    return 0 if h == 200 and dead == 0 else 1


def slow(args):
    host, port = parse_url(args.url)
    s = socket.create_connection((host, port), timeout=args.within + 5)
    if args.mode == "headers":
        todo = b"GET /search?q=abc HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 10000
    elif args.mode == "body":
        auth = b"Authorization: Bearer " + args.key.encode() + b"\r\n" if args.key else b""
        s.sendall(b"PUT /docs/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth +
                  b"Content-Length: 100000\r\n\r\n")
        todo = b"{" + b" " * 99999
    else:
        todo = b""
    t0 = time.time()
    closed_after = None
    worst_health = 0.0
    i = 0
    s.setblocking(False)
    while time.time() - t0 < args.within + 3:
        try:
            data = s.recv(4096)
            if data.startswith(b"HTTP/"):
                print("unexpected answer to an incomplete request: %r" % data[:80])
                return 1
            if data == b"":
                closed_after = time.time() - t0
                break
        except BlockingIOError:
            pass
        except OSError:
            closed_after = time.time() - t0
            break
        if i < len(todo):
            try:
                s.send(todo[i:i + 1])
                i += 1
            except OSError:
                closed_after = time.time() - t0
                break
        h0 = time.time()
        h = health(host, port, timeout=2)
        dt = time.time() - h0
        worst_health = max(worst_health, dt)
        if h != 200:
            print("health failed while the slow client was connected: %s" % h)
            return 1
        time.sleep(max(0.0, 0.3 - dt))
    s.close()
    print("slow %s client: %s; slowest health answer meanwhile %.3f s"
          % (args.mode, "closed after %.1f s" % closed_after if closed_after is not None else "NOT closed",
             worst_health))
    ok = closed_after is not None and closed_after <= args.within and worst_health < 1.0
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fuzz")
    f.add_argument("url")
    f.add_argument("--seconds", type=float, default=10)
    f.add_argument("--seed", type=int, default=1)
    f.add_argument("--key", default="")
    sl = sub.add_parser("slow")
    sl.add_argument("url")
    sl.add_argument("--mode", choices=["headers", "body", "idle"], required=True)
    sl.add_argument("--within", type=float, required=True)
    sl.add_argument("--key", default="")
    args = ap.parse_args()
    sys.exit(fuzz(args) if args.cmd == "fuzz" else slow(args))


if __name__ == "__main__":
    main()
