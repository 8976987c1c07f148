"""The review console over HTTP against a real server: access control, CSRF, cookies, inert user text, and
the coordinator's actions reaching the web chat."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import pytest

from bot.store import coordinators
from bot.store.escalations import get_escalation
from tests.escalation.conftest import Live

PASSWORD = "correct horse battery staple"
HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> <!channel> <@U123> <at>Everyone</at>'


class Client:
    """A cookie-keeping HTTP client that never follows redirects (so they can be checked)."""

    def __init__(self, base: str, session: aiohttp.ClientSession) -> None:
        self.base, self.http = base, session

    async def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, Any]:
        async with self.http.get(self.base + path, allow_redirects=False, headers=headers) as response:
            return response.status, await response.text(), response.headers

    async def post(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, str, Any]:
        async with self.http.post(self.base + path, data=data, allow_redirects=False, headers=headers) as r:
            return r.status, await r.text(), r.headers

    async def chat(self, conversation: str, **body: Any) -> dict[str, Any]:
        async with self.http.post(
            self.base + "/api/chat", json={"conversation_id": conversation, **body}
        ) as r:
            assert r.status == 200, await r.text()
            data: dict[str, Any] = await r.json()
            return data

    async def login(
        self, email: str, password: str = PASSWORD, headers: dict[str, str] | None = None
    ) -> tuple[int, str, Any]:
        status, page, _ = await self.get("/review/login", headers)
        assert status == 200
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        form = {"csrf": token.group(1), "email": email, "password": password, "next": "/review"}
        return await self.post("/review/login", form, headers)

    async def csrf(self, path: str) -> str:
        status, page, _ = await self.get(path)
        assert status == 200, page
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        return found.group(1)


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[Live], Client]]:
    sessions: list[aiohttp.ClientSession] = []

    def make(live: Live) -> Client:
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        sessions.append(session)
        return Client(live.base, session)

    yield make
    for session in sessions:
        await session.close()


async def _escalate(client: Client, note: str = "Who approves our MoU?") -> tuple[str, int]:
    conversation = uuid.uuid4().hex
    await client.chat(conversation, action="escalate:start")
    await client.chat(conversation, text=note)
    done = await client.chat(conversation, action="escalate:consent:no")
    reply = done["replies"][-1]
    assert reply["data"]["state"] == "sent", reply
    return conversation, int(reply["data"]["escalation_id"])


def _coordinator(live: Live, email: str = "anna@ki.se", coordinator: bool = True) -> None:
    coordinators.add_account(live.db, email, email.split("@")[0].title(), PASSWORD, coordinator=coordinator)


async def test_anonymous_visitors_get_the_login_page(live: Live, client_for: Any) -> None:
    client = client_for(live)
    _, escalation = await _escalate(client)
    for path in ("/review", "/review/insight", f"/review/escalations/{escalation}", "/review/?x=1"):
        status, _, headers = await client.get(path)
        assert status == 302, path
        assert headers["Location"].startswith("/review")
        if path != "/review/?x=1":
            assert headers["Location"].startswith("/review/login?next=")
    status, _, headers = await client.post(f"/review/escalations/{escalation}/resolve", {"csrf": "x"})
    assert status == 302 and headers["Location"].startswith("/review/login")
    stored = get_escalation(live.db, escalation)
    assert stored is not None and stored.status == "open"
    status, page, _ = await client.get("/review/login?next=%2Freview%2Finsight")
    assert status == 200 and 'name="password"' in page and 'value="/review/insight"' in page


async def test_login_cookies_csrf_and_redirect_targets(live_factory: Any, client_for: Any) -> None:
    live = live_factory()
    _coordinator(live)
    client = client_for(live)
    status, _, _ = await client.post("/review/login", {"email": "anna@ki.se", "password": PASSWORD})
    assert status == 403  # no login token
    status, page, _ = await client.login("anna@ki.se", "wrong password")
    assert status == 401 and "Wrong e-mail address or password" in page
    status, _, headers = await client.login("anna@ki.se")
    assert status == 303 and headers["Location"] == "/review"
    cookie = next(c for c in headers.getall("Set-Cookie") if c.startswith("ribot_review="))
    parsed = SimpleCookie(cookie)["ribot_review"]
    assert parsed["httponly"] and parsed["samesite"] == "Lax" and parsed["path"] == "/review"
    assert not parsed["secure"]  # plain http on loopback
    status, page, headers = await client.get("/review")
    assert status == 200 and "Escalations" in page
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]

    for target in ("https://evil.example/", "//evil.example/x", "/elsewhere", "/review\\@evil"):
        outside = client_for(live)
        status, page, _ = await outside.get("/review/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        form = {"csrf": token.group(1), "email": "anna@ki.se", "password": PASSWORD, "next": target}
        status, page, headers = await outside.post("/review/login", form)
        assert status == 303 and headers["Location"] == "/review", target

    # Served as https (PUBLIC_URL): every cookie is Secure. A browser would not send them back over plain
    # http, so this client hands the login token back by hand.
    secure = live_factory(public_url="https://ribot.example.org")
    _coordinator(secure)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        async with http.get(secure.base + "/review/login") as response:
            login_cookie = SimpleCookie(response.headers["Set-Cookie"])["ribot_review_login"]
            page = await response.text()
        assert login_cookie["secure"] and login_cookie["httponly"]
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None and token.group(1) == login_cookie.value
        form = {"csrf": token.group(1), "email": "anna@ki.se", "password": PASSWORD}
        headers_out = {"Cookie": f"ribot_review_login={login_cookie.value}"}
        async with http.post(
            secure.base + "/review/login", data=form, headers=headers_out, allow_redirects=False
        ) as response:
            assert response.status == 303
            cookie = next(c for c in response.headers.getall("Set-Cookie") if c.startswith("ribot_review="))
    assert SimpleCookie(cookie)["ribot_review"]["secure"]

    # Sign out needs the token too, then the session is gone.
    token_value = await client.csrf("/review")
    assert (await client.post("/review/logout", {}))[0] == 403
    assert (await client.post("/review/logout", {"csrf": token_value}))[0] == 303
    assert (await client.get("/review"))[0] == 302


async def test_password_guessing_is_slowed_down(live: Live, client_for: Any) -> None:
    _coordinator(live)
    client = client_for(live)
    statuses = [(await client.login("anna@ki.se", f"guess {i}"))[0] for i in range(11)]
    assert statuses[:10] == [401] * 10 and statuses[10] == 429
    assert (await client.login("anna@ki.se"))[0] == 429
    _coordinator(live, "bo@ki.se")
    assert (await client.login("bo@ki.se"))[0] == 303  # other accounts are not locked out


def _via(client: str) -> dict[str, str]:
    """What a reverse proxy adds in front of ribot (here the proxy is the test client on 127.0.0.1)."""
    return {"X-Forwarded-For": client}


async def test_behind_a_trusted_proxy_one_visitors_failures_do_not_lock_out_the_owner(
    live_factory: Any, client_for: Any
) -> None:
    live = live_factory(ribot_trusted_proxies="127.0.0.1")
    _coordinator(live)
    attacker, owner = client_for(live), client_for(live)
    statuses = [(await attacker.login("anna@ki.se", f"guess {i}", _via("203.0.113.7")))[0] for i in range(11)]
    assert statuses == [401] * 10 + [429]
    assert (await attacker.login("anna@ki.se", PASSWORD, _via("203.0.113.7")))[0] == 429
    assert (await owner.login("anna@ki.se", PASSWORD, _via("198.51.100.9")))[0] == 303
    # a header the visitor writes in front of the proxy's own entry changes nothing
    assert (await attacker.login("anna@ki.se", PASSWORD, _via("198.51.100.9, 203.0.113.7")))[0] == 429


async def test_without_trusted_proxies_forwarded_for_cannot_dodge_the_throttle(
    live: Live, client_for: Any
) -> None:
    _coordinator(live)
    client = client_for(live)
    statuses = [(await client.login("anna@ki.se", f"g{i}", _via(f"198.51.100.{i}")))[0] for i in range(11)]
    assert statuses == [401] * 10 + [429]


async def test_replicas_on_one_database_share_the_throttle(
    live_factory: Any, client_for: Any, pg_url: str
) -> None:
    first = live_factory(database_url=pg_url)
    second = live_factory(database_url=pg_url)
    _coordinator(first)
    one, two = client_for(first), client_for(second)
    for i in range(5):
        assert (await one.login("anna@ki.se", f"guess {i}"))[0] == 401
        assert (await two.login("anna@ki.se", f"guess {i}"))[0] == 401
    assert (await one.login("anna@ki.se"))[0] == 429  # ten failures in all, five on each replica
    assert (await two.login("anna@ki.se"))[0] == 429


async def test_signed_in_non_coordinators_get_403(live: Live, client_for: Any) -> None:
    _coordinator(live, "visitor@ki.se", coordinator=False)
    client = client_for(live)
    _, escalation = await _escalate(client)
    status, _, _ = await client.login("visitor@ki.se")
    assert status == 303
    for path in ("/review", "/review/insight", f"/review/escalations/{escalation}"):
        status, page, _ = await client.get(path)
        assert status == 403 and "not a network coordinator" in page, path
    status, _, _ = await client.post(f"/review/escalations/{escalation}/claim", {"csrf": "anything"})
    assert status == 403
    stored = get_escalation(live.db, escalation)
    assert stored is not None and stored.status == "open"


async def test_forms_without_their_csrf_token_are_refused(live: Live, client_for: Any) -> None:
    _coordinator(live)
    client = client_for(live)
    _, escalation = await _escalate(client)
    await client.login("anna@ki.se")
    path = f"/review/escalations/{escalation}"
    token = await client.csrf(path)
    for action, form in [
        ("claim", {}),
        ("claim", {"csrf": ""}),
        ("claim", {"csrf": token[:-2] + "xx"}),
        ("reply", {"text": "hello"}),
        ("resolve", {"csrf": "not-the-token"}),
        ("note", {"text": "x"}),
    ]:
        status, page, _ = await client.post(f"{path}/{action}", form)
        assert status == 403 and "security token" in page, (action, form)
    stored = get_escalation(live.db, escalation)
    assert stored is not None and stored.status == "open" and [e.kind for e in stored.events] == ["created"]
    status, _, headers = await client.post(f"{path}/claim", {"csrf": token})
    assert status == 303 and headers["Location"].endswith("?done=claim")


async def test_user_text_and_chat_markup_render_inert(live: Live, client_for: Any) -> None:
    _coordinator(live)
    client = client_for(live)
    conversation = uuid.uuid4().hex
    await client.chat(conversation, text=f"Is this allowed? {HOSTILE}")
    await client.chat(conversation, action="escalate:start")
    await client.chat(conversation, text=HOSTILE)
    done = await client.chat(
        conversation, action="escalate:consent:yes", user_name='<b onmouseover="x">Eve</b>'
    )
    escalation = done["replies"][-1]["data"]["escalation_id"]
    await client.login("anna@ki.se")
    for path in ("/review", f"/review/escalations/{escalation}", "/review/insight"):
        status, page, _ = await client.get(path)
        assert status == 200
        assert "<script" not in page.lower() and "<img" not in page and "<at>" not in page
        assert "<!channel>" not in page and "<@U123>" not in page and "<b " not in page
    _, page, _ = await client.get(f"/review/escalations/{escalation}")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;!channel&gt;" in page and "&lt;at&gt;Everyone&lt;/at&gt;" in page
    assert "&lt;b onmouseover=&#34;x&#34;&gt;Eve&lt;/b&gt;" in page


async def test_coordinator_actions_reach_the_user_and_the_log(live: Live, client_for: Any) -> None:
    _coordinator(live)
    _coordinator(live, "bo@ki.se")
    client = client_for(live)
    conversation, escalation = await _escalate(client, "Our partner wants student data; may we share it?")
    await client.login("anna@ki.se")
    path = f"/review/escalations/{escalation}"
    token = await client.csrf(path)
    _, page, _ = await client.get(path)
    assert "Our partner wants student data" in page and "escalate:start" in page

    async def act(action: str, **form: str) -> None:
        status, body, headers = await client.post(f"{path}/{action}", {"csrf": token, **form})
        assert status == 303, body
        _, shown, _ = await client.get(headers["Location"])
        assert 'role="status"' in shown

    await act("claim")
    bo = next(a for a in coordinators.list_accounts(live.db) if a.email == "bo@ki.se")
    await act("assign", assignee=str(bo.id))
    await act("reply", text="Hello! Please talk to your head of department first <3.")
    async with client.http.get(f"{live.base}/api/chat/{conversation}/messages?after=0") as response:
        messages = (await response.json())["messages"]
    assert len(messages) == 1
    assert "Please talk to your head of department first <3." in messages[0]["reply"]["text"]
    await act("forward", to="security_forum", text="dual-use question")
    await act("note", text="Security Forum contacted by phone.")
    await act("resolve", text="Answered and forwarded.")
    status, page, _ = await client.post(f"{path}/reply", {"csrf": token, "text": "too late"})
    assert status == 409 and "resolved" in page
    stored = get_escalation(live.db, escalation)
    assert stored is not None and stored.status == "resolved"
    assert [e.kind for e in stored.events] == [
        "created",
        "claim",
        "assign",
        "reply",
        "forward",
        "note",
        "resolve",
    ]
    assert stored.assignee_name == "Bo" and stored.forwarded_to == "security_forum"

    status, page, _ = await client.get("/review?status=resolved&category=&age=1d")
    assert status == 200 and stored.reference in page
    status, page, _ = await client.get("/review?status=open")
    assert stored.reference not in page
    status, page, _ = await client.get("/review?status=<script>&category=nonsense&age=zzz")
    assert status == 200
    assert (await client.get("/review/escalations/999999"))[0] == 404
    assert (await client.get("/review/escalations/abc"))[0] == 404
    assert (await client.post(f"{path}/explode", {"csrf": token}))[0] == 404


async def test_insight_counts_unanswered_questions_feedback_and_categories(
    live: Live, client_for: Any
) -> None:
    _coordinator(live)
    client = client_for(live)
    conversation = uuid.uuid4().hex
    answered = await client.chat(conversation, text="Who must be contacted about animal experiments abroad?")
    up = next(
        a["value"] for r in answered["replies"] for a in r["actions"] if a["value"].startswith("feedback:up")
    )
    await client.chat(conversation, action=up)
    off = await client.chat(conversation, text="What is the best recipe for cinnamon buns?")
    assert off["replies"][0]["answer"]["grounded"] is False
    down = next(
        a["value"] for r in off["replies"] for a in r["actions"] if a["value"].startswith("feedback:down")
    )
    await client.chat(conversation, action=down)
    await _escalate(client, "Animal research at a partner in Brazil: who approves it?")
    await client.login("anna@ki.se")
    status, page, _ = await client.get("/review/insight")
    assert status == 200
    assert "What is the best recipe for cinnamon buns?" in page
    assert "Who must be contacted about animal experiments" not in page
    assert re.search(r'class="feedback-up">1<', page) and re.search(r'class="feedback-down">1<', page)
    assert "<svg" in page and re.search(r"<rect [^>]*fill=\"#4db5bc\"><title>[^<]*1 animals", page)


async def test_web_chat_identity_is_marked_unverified(live: Live, client_for: Any) -> None:
    _coordinator(live)
    client = client_for(live)
    conversation = uuid.uuid4().hex
    await client.chat(conversation, action="escalate:start")
    await client.chat(conversation, text="Please call me about our MoU.")
    done = await client.chat(
        conversation, action="escalate:consent:yes", user_name="Vice-Chancellor", user_email="vc@ki.se"
    )
    escalation = done["replies"][-1]["data"]["escalation_id"]
    await client.login("anna@ki.se")
    _, page, _ = await client.get(f"/review/escalations/{escalation}")
    who = page[page.index("<dt>Who</dt>") :][:400]
    assert "Vice-Chancellor" in who and "vc@ki.se" in who
    assert "not verified: typed by the user in the web chat" in who


@pytest.mark.parametrize("raw", ["%C2%B2", "%D9%A1%D9%A2", "%EF%BC%91", "%E2%85%A0", "1%0B", "9" * 13, "-1"])
async def test_unicode_digits_in_console_ids_get_404(live: Live, client_for: Any, raw: str) -> None:
    _coordinator(live)
    client = client_for(live)
    await client.login("anna@ki.se")
    status, page, headers = await client.get(f"/review/escalations/{raw}")
    assert status == 404 and "ids are numbers" in page
    assert headers["X-Frame-Options"] == "DENY"
    token = await client.csrf("/review")
    status, page, _ = await client.post(f"/review/escalations/{raw}/claim", {"csrf": token})
    assert status == 404


async def test_unicode_digits_as_the_assignee_get_409(live: Live, client_for: Any) -> None:
    _coordinator(live)
    client = client_for(live)
    _, escalation = await _escalate(client)
    await client.login("anna@ki.se")
    path = f"/review/escalations/{escalation}"
    token = await client.csrf(path)
    for assignee in ("²", "١", "１", ""):
        status, page, _ = await client.post(f"{path}/assign", {"csrf": token, "assignee": assignee})
        assert status == 409 and "choose a coordinator" in page, assignee
    stored = get_escalation(live.db, escalation)
    assert stored is not None and stored.status == "open"


@pytest.mark.parametrize(
    "target", ["/review\x0b", "/review/insight\x0bx", "/review\x00", "/review\u2028", "\x0b"]
)
async def test_control_characters_in_next_get_400(live: Live, client_for: Any, target: str) -> None:
    from urllib.parse import quote

    _coordinator(live)
    anonymous = client_for(live)
    status, page, _ = await anonymous.get(f"/review/login?next={quote(target)}")
    assert status == 400 and "control characters" in page
    status, page, _ = await anonymous.get("/review/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf": token.group(1), "email": "anna@ki.se", "password": PASSWORD, "next": target}
    status, page, _ = await anonymous.post("/review/login", form)
    assert status == 400 and "control characters" in page
    signed_in = client_for(live)
    assert (await signed_in.login("anna@ki.se"))[0] == 303
    status, page, _ = await signed_in.get(f"/review/login?next={quote(target)}")
    assert status == 400 and "control characters" in page


async def test_next_outside_ascii_is_encoded_for_the_location_header(live: Live, client_for: Any) -> None:
    _coordinator(live)
    client = client_for(live)
    _, page, _ = await client.get("/review/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token is not None
    form = {"csrf": token.group(1), "email": "anna@ki.se", "password": PASSWORD, "next": "/review?q=åäö ü"}
    status, _, headers = await client.post("/review/login", form)
    assert status == 303 and headers["Location"] == "/review?q=%C3%A5%C3%A4%C3%B6%20%C3%BC"
