"""End-to-end: the official `anthropic`, `openai` and `google-genai` Python SDKs through `keycustody proxy`.

A mock upstream on loopback records what it receives. The SDKs are pointed at the
proxy with their agent's proxy token (from `keycustody proxy token issue`) as the API
key; the upstream must see the real key from the vault (never the token), the client
must never see it, and the audit log names the agent.

Run: KEYCUSTODY_BIN=target/debug/keycustody pytest tests/interop/test_proxy_sdk.py
"""

import json
import os
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types as genai_types

BIN = os.environ.get("KEYCUSTODY_BIN", str(Path(__file__).resolve().parents[2] / "target/debug/keycustody"))
REAL_OPENAI = "sk-proj-REALopenaiKEY0123456789"
REAL_ANTHROPIC = "sk-ant-api03-REALanthropicKEY"
REAL_GOOGLE = "AIzaSyREALgoogleKEY0123456789ab"


class Upstream:
    def __init__(self):
        self.seen = []
        self.release = threading.Event()
        self.released_by_client = None
        up = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                up.seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                path = self.path.split("?", 1)[0]
                if path.endswith(":generateContent"):
                    return self.json(gemini_response("hi from gemini mock"))
                if path.endswith(":streamGenerateContent"):
                    return self.gemini_sse()
                if self.path.endswith("/v1/messages"):
                    return self.json({
                        "id": "msg_1", "type": "message", "role": "assistant", "model": body.get("model", "m"),
                        "content": [{"type": "text", "text": "hello from mock"}],
                        "stop_reason": "end_turn", "stop_sequence": None,
                        "usage": {"input_tokens": 1, "output_tokens": 3},
                    })
                if self.path.endswith("/chat/completions") and body.get("stream"):
                    return self.sse(body)
                if self.path.endswith("/chat/completions"):
                    return self.json({
                        "id": "c1", "object": "chat.completion", "created": 1, "model": body.get("model", "m"),
                        "choices": [{"index": 0, "finish_reason": "stop",
                                     "message": {"role": "assistant", "content": "hi from mock"}}],
                    })
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()

            def json(self, obj):
                data = json.dumps(obj).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def sse(self, body):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()

                def chunk(text):
                    ev = {"id": "c2", "object": "chat.completion.chunk", "created": 1, "model": "m",
                          "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
                    self.write_chunk(f"data: {json.dumps(ev)}\n\n".encode())

                chunk("first")
                # The rest is held back until the client has received the first
                # chunk: a buffering proxy would deadlock here (and time out).
                up.released_by_client = up.release.wait(timeout=20)
                chunk("second")
                self.write_chunk(b"data: [DONE]\n\n")
                self.write_chunk(b"")

            def gemini_sse(self):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                self.write_chunk(f"data: {json.dumps(gemini_response('first'))}\r\n\r\n".encode())
                # As for OpenAI: the second event waits until the client has the first.
                up.released_by_client = up.release.wait(timeout=20)
                self.write_chunk(f"data: {json.dumps(gemini_response('second'))}\r\n\r\n".encode())
                self.write_chunk(b"")

            def write_chunk(self, data):
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def gemini_response(text):
    return {"candidates": [{"content": {"role": "model", "parts": [{"text": text}]},
                            "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2},
            "modelVersion": "gemini-test"}


def kc(*args, stdin=None, vault):
    return subprocess.run([BIN, *args, "--vault", str(vault)], input=stdin, capture_output=True, check=True)


@pytest.fixture()
def env():
    up = Upstream()
    d = tempfile.TemporaryDirectory()
    vault = Path(d.name) / "vault.json"
    subprocess.run([BIN, "vault", "init", "--vault", str(vault)], check=True, capture_output=True)
    kc("vault", "set", "OPENAI_API_KEY", stdin=REAL_OPENAI.encode(), vault=vault)
    kc("vault", "set", "ANTHROPIC_API_KEY", stdin=REAL_ANTHROPIC.encode(), vault=vault)
    kc("vault", "set", "GOOGLE_API_KEY", stdin=REAL_GOOGLE.encode(), vault=vault)
    routes = Path(d.name) / "routes.json"
    routes.write_text(json.dumps({"routes": {
        "openai": {"upstream": f"http://127.0.0.1:{up.port}", "kind": "openai", "secret": "OPENAI_API_KEY"},
        "anthropic": {"upstream": f"http://127.0.0.1:{up.port}", "kind": "anthropic", "secret": "ANTHROPIC_API_KEY"},
        "gemini": {"upstream": f"http://127.0.0.1:{up.port}", "kind": "google", "secret": "GOOGLE_API_KEY"},
    }}))
    # One agent granted the OpenAI and Anthropic routes, one OpenAI only, one Gemini.
    def issue(agent, *routes):
        args = [BIN, "proxy", "token", "issue", "--agent", agent, "--routes", str(routes_file)]
        for r in routes:
            args += ["--route", r]
        out = subprocess.run(args, capture_output=True, check=True, text=True)
        token = out.stdout.strip()
        assert token.startswith("kcp_") and token not in out.stderr
        return token
    routes_file = routes
    token = issue("sdk-agent", "openai", "anthropic")
    openai_only = issue("openai-only", "openai")
    gemini = issue("gemini-agent", "gemini")
    p = subprocess.Popen([BIN, "proxy", "--listen", "127.0.0.1:0", "--allow", "127.0.0.1/32",
                          "--vault", str(vault), "--routes", str(routes)],
                         stderr=subprocess.PIPE, text=True)
    line = p.stderr.readline()
    assert "listening on" in line, line
    addr = line.strip().rsplit(" ", 1)[1]
    log = []
    threading.Thread(target=lambda: log.extend(p.stderr), daemon=True).start()
    yield {"base": f"http://{addr}", "up": up, "vault": vault, "log": log, "token": token,
           "openai_only": openai_only, "gemini": gemini, "routes": routes}
    p.terminate()
    p.wait(timeout=10)
    for k in (REAL_OPENAI, REAL_ANTHROPIC, REAL_GOOGLE, "sk-rotated", token, openai_only, gemini):
        assert not any(k in l for l in log), "a key or token reached the proxy log"
    audit = (Path(d.name) / "vault.json.audit").read_text()
    assert token not in audit and openai_only not in audit and gemini not in audit
    for seen in up.seen:
        for t in (token, openai_only, gemini):
            assert t not in json.dumps(seen), "a token went upstream"
    up.server.shutdown()
    d.cleanup()


def test_anthropic_sdk_gets_through_with_the_real_key(env):
    c = anthropic.Anthropic(base_url=env["base"] + "/proxy/anthropic", api_key=env["token"], max_retries=0)
    raw = c.messages.with_raw_response.create(
        model="claude-test", max_tokens=16, messages=[{"role": "user", "content": "hi"}])
    msg = raw.parse()
    assert msg.content[0].text == "hello from mock"
    seen = env["up"].seen[-1]
    assert seen["path"] == "/v1/messages"
    assert seen["headers"]["x-api-key"] == REAL_ANTHROPIC
    assert "authorization" not in seen["headers"]
    assert seen["headers"]["anthropic-version"]
    # The client never sees the real key: not in headers, not in the body.
    assert REAL_ANTHROPIC not in str(dict(raw.headers)) and REAL_ANTHROPIC not in raw.http_response.text


def test_openai_sdk_gets_through_with_the_real_key(env):
    c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=env["token"], max_retries=0)
    raw = c.chat.completions.with_raw_response.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}])
    r = raw.parse()
    assert r.choices[0].message.content == "hi from mock"
    seen = env["up"].seen[-1]
    assert seen["path"] == "/v1/chat/completions"
    assert seen["headers"]["authorization"] == f"Bearer {REAL_OPENAI}"
    assert "x-api-key" not in seen["headers"]
    assert REAL_OPENAI not in str(dict(raw.headers)) and REAL_OPENAI not in raw.http_response.text


def test_openai_stream_arrives_chunk_by_chunk(env):
    c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=env["token"], max_retries=0)
    stream = c.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True)
    texts = []
    for ev in stream:
        texts.append(ev.choices[0].delta.content)
        if len(texts) == 1:
            # We hold the first chunk while the upstream still holds the second.
            env["up"].release.set()
    assert texts == ["first", "second"]
    assert env["up"].released_by_client is True


def test_rotated_key_is_used_on_the_next_call(env):
    c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=env["token"], max_retries=0)
    c.chat.completions.create(model="m", messages=[{"role": "user", "content": "1"}])
    assert env["up"].seen[-1]["headers"]["authorization"] == f"Bearer {REAL_OPENAI}"
    kc("vault", "set", "OPENAI_API_KEY", stdin=b"sk-rotated-999", vault=env["vault"])
    c.chat.completions.create(model="m", messages=[{"role": "user", "content": "2"}])
    assert env["up"].seen[-1]["headers"]["authorization"] == "Bearer sk-rotated-999"


def test_source_outside_allowlist_is_refused(env):
    http = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=env["token"], max_retries=0, http_client=http)
    with pytest.raises(openai.PermissionDeniedError) as e:
        c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 403
    assert REAL_OPENAI not in str(e.value.body)
    # Recent anthropic SDKs run on `httpx2`; older ones on `httpx`.
    try:
        import httpx2 as ahttpx
    except ImportError:  # pragma: no cover
        ahttpx = httpx
    a = anthropic.Anthropic(base_url=env["base"] + "/proxy/anthropic", api_key=env["token"], max_retries=0,
                            http_client=anthropic.DefaultHttpxClient(transport=ahttpx.HTTPTransport(local_address="127.0.0.2")))
    with pytest.raises(anthropic.PermissionDeniedError):
        a.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    assert env["up"].seen == []


def test_tokens_unknown_revoked_and_wrong_route_are_refused(env):
    # Wrong route: the OpenAI-only agent on the Anthropic route.
    a = anthropic.Anthropic(base_url=env["base"] + "/proxy/anthropic", api_key=env["openai_only"], max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError) as e:
        a.messages.create(model="m", max_tokens=1, messages=[{"role": "user", "content": "x"}])
    assert e.value.body["type"] == "error" and e.value.body["error"]["type"] == "permission_error"
    # Unknown: the placeholder of old and a forged token.
    for key in ("proxy-managed", "kcp_" + "A" * 36):
        c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=key, max_retries=0)
        with pytest.raises(openai.AuthenticationError) as e:
            c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        assert e.value.code == "invalid_api_key"
    # Right route, then revoked: the next call is refused.
    c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=env["openai_only"], max_retries=0)
    c.chat.completions.create(model="m", messages=[{"role": "user", "content": "1"}])
    subprocess.run([BIN, "proxy", "token", "revoke", "--agent", "openai-only", "--routes", str(env["routes"])],
                   check=True, capture_output=True)
    with pytest.raises(openai.AuthenticationError):
        c.chat.completions.create(model="m", messages=[{"role": "user", "content": "2"}])
    assert len(env["up"].seen) == 1


def test_unknown_route_and_audit_trail(env):
    c = openai.OpenAI(base_url=env["base"] + "/proxy/nope/v1", api_key=env["token"], max_retries=0)
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    # Each key use names the agent whose token the SDK sent (and never the token).
    c = openai.OpenAI(base_url=env["base"] + "/proxy/openai/v1", api_key=env["token"], max_retries=0)
    c.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    out = subprocess.run([BIN, "audit", "show", "--vault", str(env["vault"])],
                         capture_output=True, check=True, text=True)
    assert "proxy.key_use\tOPENAI_API_KEY\troute=openai\tactor=sdk-agent" in out.stdout, out.stdout
    assert env["token"] not in out.stdout


def gemini_client(env, key):
    opts = {"base_url": env["base"] + "/proxy/gemini", "api_version": "v1beta"}
    if "retry_options" in genai_types.HttpOptions.model_fields:
        opts["retry_options"] = genai_types.HttpRetryOptions(attempts=1)
    return genai.Client(api_key=key, http_options=genai_types.HttpOptions(**opts))


def audit_show(env):
    return subprocess.run([BIN, "audit", "show", "--vault", str(env["vault"])],
                          capture_output=True, check=True, text=True).stdout


def assert_gemini_upstream(env, seen, method):
    assert seen["path"].split("?", 1)[0] == f"/v1beta/models/gemini-test:{method}", seen["path"]
    assert seen["headers"]["x-goog-api-key"] == REAL_GOOGLE
    assert "key=" not in seen["path"]
    assert "authorization" not in seen["headers"] and "x-api-key" not in seen["headers"]


def test_google_genai_sdk_gets_through_with_the_real_key(env):
    c = gemini_client(env, env["gemini"])
    r = c.models.generate_content(model="gemini-test", contents="hi")
    assert r.text == "hi from gemini mock"
    assert_gemini_upstream(env, env["up"].seen[-1], "generateContent")
    assert "proxy.key_use\tGOOGLE_API_KEY\troute=gemini\tactor=gemini-agent" in audit_show(env)


def test_google_genai_stream_arrives_chunk_by_chunk(env):
    c = gemini_client(env, env["gemini"])
    texts = []
    for chunk in c.models.generate_content_stream(model="gemini-test", contents="hi"):
        texts.append(chunk.text)
        if len(texts) == 1:
            env["up"].release.set()
    assert texts == ["first", "second"]
    assert env["up"].released_by_client is True
    seen = env["up"].seen[-1]
    assert_gemini_upstream(env, seen, "streamGenerateContent")
    assert "alt=sse" in seen["path"]
    assert "proxy.key_use\tGOOGLE_API_KEY\troute=gemini\tactor=gemini-agent" in audit_show(env)


def test_google_genai_sdk_with_a_token_of_another_route_is_refused(env):
    c = gemini_client(env, env["openai_only"])
    with pytest.raises(genai_errors.ClientError) as e:
        c.models.generate_content(model="gemini-test", contents="hi")
    assert e.value.code == 403
    assert e.value.status == "PERMISSION_DENIED"
    assert env["up"].seen == []
