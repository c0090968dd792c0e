#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTP tests of examples/hero_api against the running service.

SQLModel's tests of its FastAPI chapters (tests/test_tutorial/test_fastapi/
and the app-testing chapter's test_main.py) drive the app through
FastAPI's TestClient; here the same requests go over real sockets to the
C service, which is started on a free port for each test (a fresh SQLite
file, or on PostgreSQL empty tables) and stopped with SIGTERM, its exit
status checked (0; under valgrind, no error either). Then what the issue
adds: FastAPI's error shapes, 10,000 requests from 50 connections with the
pool back to idle afterwards, malformed and oversized requests, invalid
UTF-8, a slow client, clients that leave mid-request, and a shutdown with
requests in flight.

Why Python: the tests being ported are Python, and the port reads line for
line against them; Debian's python3 and its standard library (http.client,
socket, threading) are all it needs, nothing from pip. The service under
test is the C program.

    tests/hero_api_test.py PROGRAM [--pg] [--quick]

--pg runs on the PostgreSQL server named by CALX_TEST_PG_URL (exit 77,
skipped, when it is not set). --quick runs fewer tests and a lighter load,
for valgrind.
HERO_API_WRAPPER, when set, is put before PROGRAM ("valgrind -q ...").
"""
import http.client
import json
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

PROGRAM = None
PG_URL = None
QUICK = False
WORKDIR = None
STARTS = 0


class Service:
    """The service on a free port, for one test."""

    def __init__(self):
        global STARTS
        STARTS += 1
        env = dict(os.environ)
        args = [PROGRAM, "--port", "0"]
        if PG_URL:
            env["DATABASE_URL"] = PG_URL
            args.append("--drop-all")
        else:
            env.pop("DATABASE_URL", None)
            db = os.path.join(WORKDIR, "hero_api_%d.db" % STARTS)
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.unlink(db + suffix)
            args += ["--db", db]
        wrapper = shlex.split(os.environ.get("HERO_API_WRAPPER", ""))
        self.log = open(os.path.join(WORKDIR, "hero_api_%d.log" % STARTS), "w+")
        self.proc = subprocess.Popen(wrapper + args, stdout=subprocess.PIPE,
                                     stderr=self.log, cwd=WORKDIR)
        line = self.proc.stdout.readline().decode()
        if "listening on" not in line:
            self.proc.wait(timeout=30)
            raise AssertionError("the service did not start: %r\n%s" % (line, self.logtext()))
        self.port = int(line.rsplit(":", 1)[1])

    def logtext(self):
        self.log.seek(0)
        return self.log.read()

    def client(self):
        return Client(self.port)

    def stop(self):
        """SIGTERM; the service must exit 0 on its own."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the service did not exit after SIGTERM")
        assert rc == 0, "the service exited %d:\n%s" % (rc, self.logtext())
        return self.logtext()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Response:
    def __init__(self, status, text, headers):
        self.status_code = status
        self.text = text
        self.headers = headers

    def json(self):
        return json.loads(self.text)


class Client:
    """TestClient's calls, over one keep-alive connection."""

    def __init__(self, port):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method, path, json_body=None, body=None, params=None):
        if params:
            path += "?" + "&".join("%s=%s" % kv for kv in params.items())
        headers = {}
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The service closes a keep-alive connection idle for 5 s;
            # a client then opens a new one, as any HTTP client does.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            r = self.conn.getresponse()
        return Response(r.status, r.read().decode("utf-8", "replace"), r.headers)

    def get(self, path, params=None):
        return self.request("GET", path, params=params)

    def post(self, path, json=None):
        return self.request("POST", path, json_body=json)

    def patch(self, path, json=None):
        return self.request("PATCH", path, json_body=json)

    def delete(self, path):
        return self.request("DELETE", path)

    def close(self):
        self.conn.close()


def status(client):
    return client.get("/status").json()


def wait_idle(client, seconds=10):
    """The pool back to idle and no task running: /status says so."""
    deadline = time.time() + seconds
    while True:
        st = status(client)
        if st["checked_out"] == 0 and st["in_flight"] == 0:
            return st
        if time.time() > deadline:
            raise AssertionError("the pool did not come back to idle: %r" % st)
        time.sleep(0.05)


# ---- SQLModel's tutorial tests, ported ----

def post_ok(client, path, data):
    """client.post(...), asserting 200 as the tutorial's tests do; the JSON."""
    response = client.post(path, json=data)
    assert response.status_code == 200, response.text
    return response.json()


def the_relationships_chapter_passes_its_tutorial_test(client):
    """tests/test_tutorial/test_fastapi/test_relationships/test_tutorial001.py"""
    team_preventers = {"name": "Preventers", "headquarters": "Sharp Tower"}
    team_z_force = {"name": "Z-Force", "headquarters": "Sister Margaret\u2019s Bar"}
    team_preventers_data = post_ok(client, "/teams/", team_preventers)
    team_preventers_id = team_preventers_data["id"]
    team_z_force_data = post_ok(client, "/teams/", team_z_force)
    team_z_force_id = team_z_force_data["id"]
    assert team_z_force_data["headquarters"] == team_z_force["headquarters"]
    response = client.get("/teams/")
    data = response.json()
    assert len(data) == 2
    response = client.get("/teams/9000")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Team not found"}
    response = client.patch(f"/teams/{team_preventers_id}",
                            json={"headquarters": "Preventers Tower"})
    data = response.json()
    assert response.status_code == 200, response.text
    assert data["name"] == team_preventers["name"]
    assert data["headquarters"] == "Preventers Tower"
    response = client.patch("/teams/9000", json={"name": "Freedom League"})
    assert response.status_code == 404, response.text

    hero1_data = {"name": "Deadpond", "secret_name": "Dive Wilson", "team_id": team_z_force_id}
    hero2_data = {"name": "Spider-Boy", "secret_name": "Pedro Parqueador", "id": 9000}
    hero3_data = {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48,
                  "team_id": team_preventers_id}
    hero1_id = post_ok(client, "/heroes/", hero1_data)["id"]
    hero2_id = post_ok(client, "/heroes/", hero2_data)["id"]
    assert hero2_id != 9000, "an id sent to a create is ignored"
    post_ok(client, "/heroes/", hero3_data)
    response = client.get("/heroes/9000")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "Hero not found"}
    response = client.get("/heroes/")
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data) == 3
    response = client.get(f"/heroes/{hero1_id}")
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["name"] == hero1_data["name"]
    assert data["team"]["name"] == team_z_force["name"]
    assert data == {"name": "Deadpond", "secret_name": "Dive Wilson", "age": None,
                    "team_id": team_z_force_id, "id": hero1_id,
                    "team": {"name": "Z-Force", "headquarters": team_z_force["headquarters"],
                             "id": team_z_force_id}}
    response = client.patch(f"/heroes/{hero2_id}", json={"secret_name": "Spider-Youngster"})
    assert response.status_code == 200, response.text
    response = client.patch("/heroes/9001", json={"name": "Dragon Cube X"})
    assert response.status_code == 404, response.text
    response = client.delete(f"/heroes/{hero2_id}")
    assert response.status_code == 200, response.text
    assert response.json() == {"ok": True}
    response = client.get("/heroes/")
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data) == 2
    response = client.delete("/heroes/9000")
    assert response.status_code == 404, response.text

    response = client.get(f"/teams/{team_preventers_id}")
    data = response.json()
    assert response.status_code == 200, response.text
    assert data["name"] == team_preventers_data["name"]
    assert data["heroes"][0]["name"] == hero3_data["name"]

    response = client.delete(f"/teams/{team_preventers_id}")
    assert response.status_code == 200, response.text
    response = client.delete("/teams/9000")
    assert response.status_code == 404, response.text
    response = client.get("/teams/")
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data) == 1


# The heroes the limit-and-offset and update chapters' tests begin with
# (the second one's id is ignored: FastAPI drops what HeroCreate lacks).
HERO1_DATA = {"name": "Deadpond", "secret_name": "Dive Wilson"}
HERO2_DATA = {"name": "Spider-Boy", "secret_name": "Pedro Parqueador", "id": 9000}
HERO3_DATA = {"name": "Rusty-Man", "secret_name": "Tommy Sharp", "age": 48}


def post_the_three_heroes(client):
    """Both chapters' tests then read the second, a missing one, and all."""
    heroes = [post_ok(client, "/heroes/", data) for data in (HERO1_DATA, HERO2_DATA, HERO3_DATA)]
    response = client.get(f"/heroes/{heroes[1]['id']}")
    assert response.status_code == 200, response.text
    response = client.get("/heroes/9000")
    assert response.status_code == 404, response.text
    response = client.get("/heroes/")
    assert response.status_code == 200, response.text
    assert len(response.json()) == 3
    return heroes


def the_limit_and_offset_chapter_passes_its_tutorial_test(client):
    """tests/test_tutorial/test_fastapi/test_limit_and_offset/test_tutorial001.py"""
    hero1_data, hero2_data, hero3_data = HERO1_DATA, HERO2_DATA, HERO3_DATA
    hero_id = post_the_three_heroes(client)[1]["id"]
    response = client.get("/heroes/", params={"limit": 2})
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data) == 2
    assert data[0]["name"] == hero1_data["name"]
    assert data[1]["name"] == hero2_data["name"]
    response = client.get("/heroes/", params={"offset": 1})
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data) == 2
    assert data[0]["name"] == hero2_data["name"]
    assert data[1]["name"] == hero3_data["name"]
    response = client.get("/heroes/", params={"offset": 1, "limit": 1})
    assert response.status_code == 200, response.text
    data = response.json()
    assert len(data) == 1
    assert data[0]["name"] == hero2_data["name"]


def the_update_chapter_passes_its_tutorial_test(client):
    """tests/test_tutorial/test_fastapi/test_update/test_tutorial001.py"""
    hero2_data, hero3_data = HERO2_DATA, HERO3_DATA
    _, hero2, hero3 = post_the_three_heroes(client)
    hero2_id, hero3_id = hero2["id"], hero3["id"]
    response = client.patch(f"/heroes/{hero2_id}", json={"secret_name": "Spider-Youngster"})
    data = response.json()
    assert response.status_code == 200, response.text
    assert data["name"] == hero2_data["name"], "The name should not be set to none"
    assert data["secret_name"] == "Spider-Youngster", "The secret name should be updated"
    response = client.patch(f"/heroes/{hero3_id}", json={"age": None})
    data = response.json()
    assert response.status_code == 200, response.text
    assert data["name"] == hero3_data["name"]
    assert data["age"] is None, "A field should be updatable to None, even if that's the default"
    response = client.patch("/heroes/9001", json={"name": "Dragon Cube X"})
    assert response.status_code == 404, response.text


def the_testing_chapter_creates_a_hero(client):
    """app_testing/tutorial001/test_main.py: test_create_hero"""
    response = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"})
    data = response.json()
    assert response.status_code == 200
    assert data["name"] == "Deadpond"
    assert data["secret_name"] == "Dive Wilson"
    assert data["age"] is None
    assert data["id"] is not None


def the_testing_chapter_refuses_an_incomplete_hero(client):
    """test_create_hero_incomplete: no secret_name"""
    response = client.post("/heroes/", json={"name": "Deadpond"})
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "missing", "loc": ["body", "secret_name"], "msg": "Field required",
        "input": {"name": "Deadpond"}}]}


def the_testing_chapter_refuses_a_hero_of_the_wrong_type(client):
    """test_create_hero_invalid: secret_name has an invalid type"""
    secret = {"message": "Do you wanna know my secret identity?"}
    response = client.post("/heroes/", json={"name": "Deadpond", "secret_name": secret})
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "string_type", "loc": ["body", "secret_name"],
        "msg": "Input should be a valid string", "input": secret}]}


def the_testing_chapter_reads_updates_and_deletes_heroes(client):
    """test_read_heroes, test_read_hero, test_update_hero, test_delete_hero (the
    rows made through the API, where the tutorial's fixture adds them itself)"""
    hero_1 = client.post("/heroes/", json={"name": "Deadpond", "secret_name": "Dive Wilson"}).json()
    hero_2 = client.post("/heroes/", json={"name": "Rusty-Man", "secret_name": "Tommy Sharp",
                                           "age": 48}).json()
    response = client.get("/heroes/")
    data = response.json()
    assert response.status_code == 200
    assert len(data) == 2
    for got, want in zip(data, (hero_1, hero_2)):
        assert got == want, (got, want)
    response = client.get(f"/heroes/{hero_1['id']}")
    data = response.json()
    assert response.status_code == 200
    assert data["name"] == hero_1["name"]
    assert data["secret_name"] == hero_1["secret_name"]
    assert data["age"] == hero_1["age"]
    assert data["id"] == hero_1["id"]
    response = client.patch(f"/heroes/{hero_1['id']}", json={"name": "Deadpuddle"})
    data = response.json()
    assert response.status_code == 200
    assert data["name"] == "Deadpuddle"
    assert data["secret_name"] == "Dive Wilson"
    assert data["age"] is None
    assert data["id"] == hero_1["id"]
    response = client.delete(f"/heroes/{hero_1['id']}")
    assert response.status_code == 200
    assert client.get(f"/heroes/{hero_1['id']}").status_code == 404


# ---- FastAPI's answers to what is wrong ----

def a_body_that_is_not_json_is_a_422_json_invalid(client):
    response = client.request("POST", "/heroes/", body=b'{"name": "Deadpond",')
    assert response.status_code == 422, response.text
    (err,) = response.json()["detail"]
    assert err["type"] == "json_invalid" and err["loc"][0] == "body", err
    assert err["msg"] == "JSON decode error"


def a_post_without_a_body_is_a_422_missing_body(client):
    response = client.request("POST", "/heroes/")
    assert response.status_code == 422, response.text
    assert response.json() == {"detail": [{"type": "missing", "loc": ["body"],
                                           "msg": "Field required", "input": None}]}


def a_value_the_model_refuses_is_a_422_naming_the_field(client):
    """calx validates in the model's constructor (max_length, ge): the field
    and calx's reason come back as FastAPI's detail."""
    response = client.post("/heroes/", json={"name": "x" * 101, "secret_name": "s"})
    assert response.status_code == 422, response.text
    (err,) = response.json()["detail"]
    assert err["loc"] == ["body", "name"] and "at most 100 characters" in err["msg"], err
    response = client.post("/heroes/", json={"name": "Kid", "secret_name": "s", "age": -1})
    assert response.status_code == 422, response.text
    (err,) = response.json()["detail"]
    assert err["loc"] == ["body", "age"] and "greater than or equal to 0" in err["msg"], err
    hero = client.post("/heroes/", json={"name": "Kid", "secret_name": "s", "age": "12"}).json()
    assert hero["age"] == 12, "pydantic's lax mode: the string '12' is the integer 12"
    response = client.patch(f"/heroes/{hero['id']}", json={"age": -5})
    assert response.status_code == 422, response.text
    response = client.patch(f"/heroes/{hero['id']}", json={"name": None})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "name"]
    assert client.get(f"/heroes/{hero['id']}").json()["age"] == 12, "a refused PATCH changes nothing"
    response = client.post("/heroes/", json={"name": "Kid", "secret_name": "s", "age": 1.5})
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "int_from_float"
    response = client.post("/heroes/", json=["not", "an", "object"])
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "model_attributes_type"


def a_bad_id_limit_or_offset_is_a_422_and_an_unknown_path_a_404(client):
    response = client.get("/heroes/abc")
    assert response.status_code == 422
    assert response.json() == {"detail": [{
        "type": "int_parsing", "loc": ["path", "hero_id"],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": "abc"}]}
    response = client.get("/heroes/", params={"limit": 101})
    assert response.status_code == 422
    (err,) = response.json()["detail"]
    assert err["type"] == "less_than_equal" and err["loc"] == ["query", "limit"], err
    response = client.get("/heroes/", params={"limit": 100})
    assert response.status_code == 200
    response = client.get("/villains/")
    assert response.status_code == 404 and response.json() == {"detail": "Not Found"}


def a_method_the_route_does_not_take_is_a_405(client):
    response = client.request("PUT", "/heroes/1", body=b"{}")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert response.headers["allow"] == "GET, PATCH, DELETE"
    response = client.request("DELETE", "/teams/")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"


def a_database_error_is_a_500_with_a_short_detail(client):
    """A hero of a team that does not exist: the foreign key refuses it (calx
    turns SQLite's foreign keys on), and the client learns no more than that
    the server failed; the log has the whole error (checked by main)."""
    response = client.post("/heroes/", json={"name": "Lost", "secret_name": "s", "team_id": 4242})
    assert response.status_code == 500, response.text
    assert response.json() == {"detail": "Internal Server Error"}
    assert client.get("/heroes/").json() == [], "nothing of the failed create was kept"
    wait_idle(client)


# ---- load and abuse ----

def ten_thousand_requests_from_50_connections_all_succeed_and_the_pool_ends_idle(client):
    nconn, per_conn = (10, 20) if QUICK else (50, 200)
    ids = [client.post("/heroes/", json={"name": "Hero %d" % i, "secret_name": "s%d" % i,
                                         "age": i}).json()["id"] for i in range(100)]
    errors = []
    answered = [0] * nconn

    def worker(k):
        rnd = random.Random(k)
        c = Client(client.port)
        try:
            for i in range(per_conn):
                kind = i % 10
                if kind == 0:
                    r = c.post("/heroes/", json={"name": "Load %d-%d" % (k, i),
                                                 "secret_name": "x", "age": i})
                elif kind == 1:
                    r = c.patch("/heroes/%d" % rnd.choice(ids), json={"age": rnd.randrange(99)})
                elif kind == 2:
                    r = c.get("/heroes/", params={"offset": rnd.randrange(90), "limit": 10})
                else:
                    r = c.get("/heroes/%d" % rnd.choice(ids))
                if r.status_code != 200:
                    errors.append((r.status_code, r.text))
                else:
                    answered[k] += 1
        except Exception as e:  # a dropped connection is an error too
            errors.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(nconn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, "%d errors, first: %r" % (len(errors), errors[:3])
    assert sum(answered) == nconn * per_conn
    st = wait_idle(client)
    assert st["checked_in"] >= 1, st
    created = len(client.get("/heroes/", params={"offset": 100, "limit": 100}).json())
    assert created == min(100, nconn * per_conn // 10), created


def raw_exchange(port, data, read_timeout=10):
    """Sends data on a new connection and reads until the server closes it or
    stops answering; the bytes read (b'' when it closed without a word)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=read_timeout)
    got = b""
    try:
        s.sendall(data)
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        pass
    finally:
        s.close()
    return got


def malformed_http_is_refused_and_others_are_served(client):
    for junk in (b"NOT HTTP AT ALL\r\n\r\n", b"GET /heroes/ HTTP/1.1\r\nHost x\r\nBad\0Header\r\n\r\n",
                 b"\xff\xfe\x00\x01" * 1000, b"GET /heroes/ HTTP/9.9\r\n\r\n"):
        got = raw_exchange(client.port, junk)
        assert got == b"" or got.startswith(b"HTTP/1.1 4") or got.startswith(b"HTTP/1.0 4"), got[:80]
    assert client.get("/heroes/").status_code == 200
    wait_idle(client)


def a_10_mb_body_is_refused_without_harm(client):
    body = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'", "secret_name": "s"}'
    head = b"POST /heroes/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    got = raw_exchange(client.port, head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert got == b"" or got.startswith(b"HTTP/1.1 413"), got[:80]
    # The same without a length, in chunks: no way to know the size up front.
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 65536]), body[i:i + 65536])
                       for i in range(0, len(body), 65536)) + b"0\r\n\r\n"
    got = raw_exchange(client.port, head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked)
    assert got == b"" or got.startswith(b"HTTP/1.1 413"), got[:80]
    assert client.get("/heroes/").json() == [], "nothing was created"
    wait_idle(client)


def invalid_utf8_in_json_is_a_422(client):
    response = client.request("POST", "/heroes/",
                              body=b'{"name": "Dead\xffpond", "secret_name": "s"}')
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["type"] == "json_invalid"
    response = client.request("POST", "/heroes/",
                              body=b'{"name": "Dead\\udc00pond", "secret_name": "s"}')
    assert response.status_code == 422, response.text
    assert client.get("/heroes/").json() == []


def a_slow_client_holds_only_its_own_connection_and_is_dropped(client):
    slow = socket.create_connection(("127.0.0.1", client.port), timeout=30)
    slow.sendall(b"POST /heroes/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"na")
    started = time.time()
    for i in range(50):
        assert client.post("/heroes/", json={"name": "Fast %d" % i, "secret_name": "s"}).status_code == 200
    assert time.time() - started < 10, "the others waited for the slow client"
    # The service's timeout (HTTP_TIMEOUT_MS, 5 s) ends the slow one.
    try:
        got = slow.recv(1000)
    except ConnectionResetError:
        got = b""
    waited = time.time() - started
    slow.close()
    assert got == b"" or b" 408 " in got.split(b"\r\n")[0], got[:80]
    assert waited < 20, waited
    wait_idle(client)


def clients_that_leave_mid_request_leave_nothing_checked_out(client):
    for i in range(50):
        s = socket.create_connection(("127.0.0.1", client.port))
        body = json.dumps({"name": "Gone %d" % i, "secret_name": "s"}).encode()
        s.sendall(b"POST /heroes/ HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(body), body))
        s.close()
        s = socket.create_connection(("127.0.0.1", client.port))
        s.sendall(b"GET /heroes/?limit=100 HTTP/1.1\r\nHost: x\r\n\r\n")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # a reset, not a goodbye
    wait_idle(client)
    # A connection the client left is closed when the loop next sees its end
    # (a read of EOF or a reset, or a write that fails), which can come after
    # the pool is idle: wait for that, with a deadline a leak never meets.
    deadline = time.time() + 10
    while True:
        st = status(client)
        if st["connections"] <= 1 + 1:  # this client's, and /status's own may linger
            break
        assert time.time() < deadline, "connections left open: %r" % st
        time.sleep(0.05)
    assert client.get("/heroes/9000").status_code == 404


def a_shutdown_answers_the_requests_in_flight_and_exits_0(service):
    stop = threading.Event()
    bad = []
    answered = [0]

    def worker():
        c = service.client()
        while not stop.is_set():
            try:
                r = c.post("/heroes/", json={"name": "Late", "secret_name": "s"})
            except (ConnectionError, http.client.HTTPException, OSError):
                return  # the service closed or refused the connection: no answer is no lie
            if r.status_code != 200:
                bad.append((r.status_code, r.text))
            answered[0] += 1
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.3)
    started = time.time()
    service.stop()
    stop.set()
    for t in threads:
        t.join()
    assert not bad, bad[:3]
    assert answered[0] > 0
    assert time.time() - started < 15


TESTS = [
    the_relationships_chapter_passes_its_tutorial_test,
    the_limit_and_offset_chapter_passes_its_tutorial_test,
    the_update_chapter_passes_its_tutorial_test,
    the_testing_chapter_creates_a_hero,
    the_testing_chapter_refuses_an_incomplete_hero,
    the_testing_chapter_refuses_a_hero_of_the_wrong_type,
    the_testing_chapter_reads_updates_and_deletes_heroes,
    a_body_that_is_not_json_is_a_422_json_invalid,
    a_post_without_a_body_is_a_422_missing_body,
    a_value_the_model_refuses_is_a_422_naming_the_field,
    a_bad_id_limit_or_offset_is_a_422_and_an_unknown_path_a_404,
    a_method_the_route_does_not_take_is_a_405,
    a_database_error_is_a_500_with_a_short_detail,
    ten_thousand_requests_from_50_connections_all_succeed_and_the_pool_ends_idle,
    malformed_http_is_refused_and_others_are_served,
    a_10_mb_body_is_refused_without_harm,
    invalid_utf8_in_json_is_a_422,
    a_slow_client_holds_only_its_own_connection_and_is_dropped,
    clients_that_leave_mid_request_leave_nothing_checked_out,
]


# --quick (the service under valgrind, make valgrind): each start costs
# seconds there, so a short run through every path that allocates: the
# tutorial, the model's and the database's refusals, some load, junk, and
# clients that leave.
QUICK_TESTS = [
    the_relationships_chapter_passes_its_tutorial_test,
    a_value_the_model_refuses_is_a_422_naming_the_field,
    a_database_error_is_a_500_with_a_short_detail,
    ten_thousand_requests_from_50_connections_all_succeed_and_the_pool_ends_idle,
    malformed_http_is_refused_and_others_are_served,
    clients_that_leave_mid_request_leave_nothing_checked_out,
]


def main():
    global PROGRAM, PG_URL, QUICK, WORKDIR
    args = sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    PROGRAM = os.path.abspath(args[0])
    QUICK = "--quick" in args
    if "--pg" in args:
        PG_URL = os.environ.get("CALX_TEST_PG_URL")
        if not PG_URL:
            print("skipped: CALX_TEST_PG_URL not set")
            return 77
    tmp = os.environ.get("CALX_TEST_TMP")
    if tmp:
        os.makedirs(tmp, exist_ok=True)
    WORKDIR = tempfile.mkdtemp(prefix="hero_api_", dir=tmp)
    failed = 0
    tests = (QUICK_TESTS if QUICK else TESTS) + [a_shutdown_answers_the_requests_in_flight_and_exits_0]
    for test in tests:
        started = time.time()
        service = None
        try:
            service = Service()
            if test is a_shutdown_answers_the_requests_in_flight_and_exits_0:
                test(service)
            else:
                client = service.client()
                test(client)
                client.close()
                log = service.stop()
                if test is a_database_error_is_a_500_with_a_short_detail:
                    assert "IntegrityError" in log, "the whole error is in the log:\n" + log
            print("ok   %s (%.1f s)" % (test.__name__, time.time() - started), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % test.__name__, flush=True)
            traceback.print_exc()
            if service:
                service.kill()
                print("--- the service's log:\n" + service.logtext()[-4000:])
    print("%d of %d failed" % (failed, len(tests)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
