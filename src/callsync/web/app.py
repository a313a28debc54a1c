"""The dashboard app: sign-in, then pages over services/ (docs/dashboard.md).

Every page needs a signed-in user; every query is limited to the user's tenants (another tenant's call, item
or dead letter is a 404, as if it did not exist); every POST carries the session's CSRF token (403 without);
viewers see, reviewers and admins also decide (403 for a viewer's POST). Service refusals come back as the
page with the message (4xx), never a 500."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from callsync.config import TenantConfig
from callsync.services import analytics as analytics_service
from callsync.services import calls as calls_service
from callsync.services import dead_letters as dead_letter_service
from callsync.services import mapping_doc as mapping_service
from callsync.services import quarantine as quarantine_service
from callsync.services import review as review_service
from callsync.services import trace as trace_service
from callsync.services import users as user_service
from callsync.services.errors import AlreadyDecided, NotFound, ServiceError, Unfinished
from callsync.store.db import Database
from callsync.web import charts, render
from callsync.web.security import SECRET_ENV, SECURITY_HEADERS, SESSION_COOKIE, LoginLimiter, Signer

HERE = Path(__file__).parent
LOGIN_COOKIE = "callsync_login"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAX_FORM_TEXT = 2000
REVIEW_PAGE = 300  # review items listed on one page (the oldest first)
DEAD_LETTER_PAGE = 500  # dead letters listed on one page (the oldest first)
# Review kinds answered with a record (services.review.resolve), not with a value.
RECORD_KINDS = ("identity_conflict", "no_identity", "missing_required", "waiting_object")


class _Redirect(Exception):
    def __init__(self, url: str) -> None:
        self.url = url


class _Refused(Exception):
    """A request answered with the error page: `status` and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message


@dataclass(frozen=True)
class Ctx:
    user: user_service.User
    csrf: str

    @property
    def scope(self) -> tuple[str, ...] | None:
        """The tenants the user may see (None: all)."""
        return None if self.user.all_tenants else self.user.tenants


def _status_of(exc: ServiceError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, AlreadyDecided):
        return 409
    if isinstance(exc, Unfinished):
        return 503
    return 400


def create_dashboard(
    db: Database,
    tenants: dict[str, TenantConfig],
    *,
    secret: str | bytes | None = None,
    secure_cookies: bool | None = None,
    login_limiter: LoginLimiter | None = None,
    decisions_here: bool = True,
) -> FastAPI:
    """The dashboard for `db`. `tenants`: the configurations decisions and replays need (a decision on a
    tenant not configured here is refused with a message). `secret`: the session key (default
    $CALLSYNC_SESSION_SECRET, else a random one: sessions then end when the process does).
    `secure_cookies`: None marks cookies Secure unless the request is for localhost. `decisions_here`:
    review decisions run their write here, as the CLI's do (services.review starts the delivery engine for
    the decision); False when this process already runs the delivery workers (one engine per process): the
    decision is enqueued for those workers and waited for (every worker registers every workflow)."""
    decide_lock = threading.Lock()  # one decision at a time: each one starts and stops the engine
    signer = Signer(secret or os.environ.get(SECRET_ENV) or secrets.token_bytes(32))
    limiter = login_limiter or LoginLimiter()
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    render.install(templates.env)
    app = FastAPI(title="callsync dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            if name == "Cache-Control" and request.url.path.startswith("/static/"):
                continue
            response.headers.setdefault(name, value)
        return response

    def secure(request: Request) -> bool:
        if secure_cookies is not None:
            return secure_cookies
        return (request.url.hostname or "") not in LOCAL_HOSTS

    def page(request: Request, name: str, ctx: Ctx | None, code: int = 200, **values: Any) -> HTMLResponse:
        return templates.TemplateResponse(
            request, name, {"ctx": ctx, "nav": request.url.path, "record_kinds": RECORD_KINDS,
                            **values}, status_code=code,
        )  # fmt: skip

    def ctx_of(request: Request) -> Ctx | None:
        session = signer.read(request.cookies.get(SESSION_COOKIE))
        if session is None:
            return None
        user = user_service.get(db, session.user_id)
        if user is None:
            return None
        request.state.session = session
        return Ctx(user, signer.csrf(session))

    def signed_in(request: Request) -> Ctx:
        ctx = ctx_of(request)
        if ctx is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise _Redirect(f"/login?next={quote(target, safe='')}")
        return ctx

    def deciding(request: Request, csrf: str) -> Ctx:
        """The user of a state-changing request: signed in (401), the right token (403), may decide (403)."""
        ctx = ctx_of(request)
        if ctx is None:
            raise _Refused(401, "sign in first")
        if not signer.check_csrf(request.state.session, csrf):
            raise _Refused(
                403, "the form's security token is missing or wrong: reload the page and try again"
            )
        if not ctx.user.can_decide:
            raise _Refused(403, f"a {ctx.user.role} may look but not decide")
        return ctx

    @app.exception_handler(_Redirect)
    async def _redirect(_request: Request, exc: _Redirect) -> Response:
        return RedirectResponse(exc.url, status_code=303)

    @app.exception_handler(_Refused)
    async def _refused(request: Request, exc: _Refused) -> Response:
        return page(request, "error.html", ctx_of(request), exc.status, message=exc.message)

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError) -> Response:
        return page(request, "error.html", ctx_of(request), _status_of(exc), message=str(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "not found", 405: "method not allowed", 422: "bad request"}.get(exc.status_code)
        return page(request, "error.html", None, exc.status_code, message=message or str(exc.detail))

    from fastapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, _exc: RequestValidationError) -> Response:
        return page(
            request, "error.html", None, 400, message="bad request: a parameter is missing or malformed"
        )

    # ------------------------------------------------------------------------------------------- sign-in

    def _login_token(nonce: str) -> str:
        from callsync.web.security import Session

        return signer.csrf(Session(0, 0, f"login:{nonce}"))

    def _login_page(
        request: Request, status: int = 200, error: str | None = None, nxt: str = "/"
    ) -> Response:
        nonce = secrets.token_urlsafe(18)
        response = page(request, "login.html", None, status, error=error, next=_safe_next(nxt),
                        csrf=_login_token(nonce))  # fmt: skip
        response.set_cookie(LOGIN_COOKIE, nonce, httponly=True, samesite="strict", secure=secure(request),
                            max_age=3600, path="/login")  # fmt: skip
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/") -> Response:
        if ctx_of(request) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        return _login_page(request, nxt=next)

    @app.post("/login")
    def login(
        request: Request,
        username: str = Form(""),
        password: str = Form(""),
        csrf: str = Form(""),
        next: str = Form("/"),
    ) -> Response:
        nonce = request.cookies.get(LOGIN_COOKIE, "")
        if not nonce or not signer.same(_login_token(nonce), csrf):
            return _login_page(request, 403, "the sign-in form expired: try again", next)
        client = request.client.host if request.client else "?"
        keys = [f"user:{username[:100]}", f"addr:{client}"]
        if limiter.blocked(keys):
            return _login_page(request, 429, "too many failed sign-ins: wait a few minutes", next)
        user = user_service.authenticate(db, username, password)
        if user is None:
            limiter.failed(keys)
            return _login_page(request, 401, "wrong username or password", next)
        limiter.succeeded(username)
        cookie, _session = signer.issue(user.id)
        response = RedirectResponse(_safe_next(next), status_code=303)
        response.set_cookie(SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=secure(request),
                            max_age=12 * 3600, path="/")  # fmt: skip
        response.delete_cookie(LOGIN_COOKIE, path="/login")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        ctx = ctx_of(request)
        if ctx is not None and not signer.check_csrf(request.state.session, csrf):
            raise _Refused(403, "the form's security token is missing or wrong")
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ------------------------------------------------------------------------------------------- review

    def _visible_item(ctx: Ctx, item_id: int) -> review_service.ReviewItem:
        item = review_service.get_item(db, item_id)
        if not ctx.user.can_see(item.tenant):
            raise NotFound(f"no review item {item_id}")
        return item

    @app.get("/review", response_class=HTMLResponse)
    def review_list(request: Request, status: str = "open", kind: str = "") -> Response:
        ctx = signed_in(request)
        chosen = None if status == "all" else status
        # The user's tenants and one page chosen in the query: filtering afterwards would hide a one-tenant
        # reviewer's items behind other tenants' older ones.
        shown = review_service.list_items(db, chosen, kind or None, limit=REVIEW_PAGE, tenants=ctx.scope)
        total = review_service.count_items(db, chosen, kind or None, tenants=ctx.scope)
        return page(request, "review_list.html", ctx, items=shown, total=total, status=status, kind=kind,
                    statuses=(*review_service.STATUSES, "all"), kinds=review_service.KINDS)  # fmt: skip

    @app.get("/review/{item_id}", response_class=HTMLResponse)
    def review_item(request: Request, item_id: int) -> Response:
        ctx = signed_in(request)
        return page(request, "review_item.html", ctx, item=_visible_item(ctx, item_id), error=None)

    def _decide(
        request: Request, ctx: Ctx, item_id: int, run: Callable[[], Any], engine: bool = True
    ) -> Response:
        item = _visible_item(ctx, item_id)
        try:
            with decide_lock:
                decision = run()
        except NotFound:
            raise
        except ServiceError as exc:
            return page(request, "review_item.html", ctx, _status_of(exc), item=item, error=str(exc))
        return RedirectResponse(f"/review/{item_id}?done={quote(decision.status)}", status_code=303)

    @app.post("/review/{item_id}/approve")
    def approve(request: Request, item_id: int, csrf: str = Form(""), record: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        return _decide(request, ctx, item_id, lambda: review_service.approve(
            db, tenants, item_id, reviewer=ctx.user.username, record=_field(record) or None,
            run_here=decisions_here))  # fmt: skip

    @app.post("/review/{item_id}/correct")
    def correct(request: Request, item_id: int, csrf: str = Form(""), value: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        item = _visible_item(ctx, item_id)
        try:
            checked = calls_service.check_correction(
                tenants, item.tenant, item.object_type, item.field, value
            )
        except ServiceError as exc:
            return page(request, "review_item.html", ctx, 400, item=item, error=str(exc))
        return _decide(request, ctx, item_id, lambda: review_service.correct(
            db, tenants, item_id, checked, reviewer=ctx.user.username, run_here=decisions_here))  # fmt: skip

    @app.post("/review/{item_id}/reject")
    def reject(request: Request, item_id: int, csrf: str = Form(""), note: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        _visible_item(ctx, item_id)
        return _decide(request, ctx, item_id, lambda: review_service.reject(
            db, item_id, reviewer=ctx.user.username, note=_field(note)), engine=False)  # fmt: skip

    @app.post("/review/{item_id}/resolve")
    def resolve(
        request: Request,
        item_id: int,
        csrf: str = Form(""),
        record: str = Form(""),
        email: str = Form(""),
        phone: str = Form(""),
    ) -> Response:
        ctx = deciding(request, csrf)
        return _decide(request, ctx, item_id, lambda: review_service.resolve(
            db, tenants, item_id, reviewer=ctx.user.username, record=_field(record) or None,
            email=_field(email) or None, phone=_field(phone) or None, run_here=decisions_here))  # fmt: skip

    # ------------------------------------------------------------------------------------------- calls

    @app.get("/calls", response_class=HTMLResponse)
    def calls(request: Request, q: str = "") -> Response:
        ctx = signed_in(request)
        try:
            found = calls_service.search(db, q, ctx.scope)
        except ServiceError as exc:
            return page(request, "calls.html", ctx, 400, q=q[:200], calls=[], error=str(exc))
        return page(request, "calls.html", ctx, q=q, calls=found, error=None)

    @app.get("/calls/{tenant}/{call_id:path}", response_class=HTMLResponse)
    def call(request: Request, tenant: str, call_id: str) -> Response:
        ctx = signed_in(request)
        return page(request, "call.html", ctx, d=calls_service.call_detail(db, tenant, call_id, ctx.scope))

    @app.get("/records/{crm}/{record_id}", response_class=HTMLResponse)
    def record(request: Request, crm: str, record_id: str) -> Response:
        ctx = signed_in(request)
        traces = calls_service.record_traces(db, crm, record_id, ctx.scope)
        return page(request, "record.html", ctx, crm=crm, record_id=record_id, traces=traces,
                    moments=trace_service.moments)  # fmt: skip

    # ------------------------------------------------------------------------------------------- dead letters

    def _visible_dead_letter(ctx: Ctx, dead_letter_id: int) -> dead_letter_service.DeadLetter:
        found = dead_letter_service.get(db, dead_letter_id)
        if not ctx.user.can_see(found.tenant):
            raise NotFound(f"no dead letter {dead_letter_id}")
        return found

    @app.get("/dead-letters", response_class=HTMLResponse)
    def dead_letters(request: Request, status: str = "open") -> Response:
        ctx = signed_in(request)
        chosen = None if status == "all" else status
        # The oldest DEAD_LETTER_PAGE first (the ones waiting longest), with how many there are in all.
        found = dead_letter_service.list_(db, status=chosen, tenants=ctx.scope, limit=DEAD_LETTER_PAGE)
        total = dead_letter_service.count(db, status=chosen, tenants=ctx.scope)
        return page(request, "dead_letters.html", ctx, status=status, items=found, total=total)

    @app.get("/dead-letters/{dead_letter_id}", response_class=HTMLResponse)
    def dead_letter(request: Request, dead_letter_id: int) -> Response:
        ctx = signed_in(request)
        return page(request, "dead_letter.html", ctx, d=_visible_dead_letter(ctx, dead_letter_id), error=None)

    @app.post("/dead-letters/{dead_letter_id}/replay")
    def replay(request: Request, dead_letter_id: int, csrf: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        found = _visible_dead_letter(ctx, dead_letter_id)
        try:
            dead_letter_service.queue_replays(db, [dead_letter_id], runnable_tenants=tenants)
        except ServiceError as exc:
            return page(request, "dead_letter.html", ctx, _status_of(exc), d=found, error=str(exc))
        return RedirectResponse(f"/dead-letters/{dead_letter_id}?done=replay", status_code=303)

    @app.post("/dead-letters/{dead_letter_id}/discard")
    def discard(
        request: Request, dead_letter_id: int, csrf: str = Form(""), reason: str = Form("")
    ) -> Response:
        ctx = deciding(request, csrf)
        found = _visible_dead_letter(ctx, dead_letter_id)
        try:
            dead_letter_service.discard(db, dead_letter_id, reason=_field(reason), by=ctx.user.username)
        except ServiceError as exc:
            return page(request, "dead_letter.html", ctx, _status_of(exc), d=found, error=str(exc))
        return RedirectResponse(f"/dead-letters/{dead_letter_id}?done=discard", status_code=303)

    # ------------------------------------------------------------------------------------------- quarantine

    def _visible_quarantined(ctx: Ctx, quarantine_id: int) -> quarantine_service.Quarantined:
        found = quarantine_service.get(db, quarantine_id)
        if not ctx.user.can_see(found.tenant):
            raise NotFound(f"no quarantined payload {quarantine_id}")
        return found

    @app.get("/quarantine", response_class=HTMLResponse)
    def quarantine(request: Request, status: str = "open") -> Response:
        ctx = signed_in(request)
        found = quarantine_service.list_(db, None if status == "all" else status)
        return page(request, "quarantine.html", ctx, status=status,
                    items=[q for q in found if ctx.user.can_see(q.tenant)])  # fmt: skip

    @app.get("/quarantine/{quarantine_id}", response_class=HTMLResponse)
    def quarantined(request: Request, quarantine_id: int) -> Response:
        ctx = signed_in(request)
        found = _visible_quarantined(ctx, quarantine_id)
        return page(request, "quarantined.html", ctx, q=found, error=None, result=None)

    @app.post("/quarantine/{quarantine_id}/retry")
    def retry(request: Request, quarantine_id: int, csrf: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        found = _visible_quarantined(ctx, quarantine_id)
        allowed = {n: t for n, t in tenants.items() if ctx.user.can_see(n)}
        (result,) = quarantine_service.retry(db, allowed, [quarantine_id])
        return page(request, "quarantined.html", ctx, 200 if result.ok else 400, q=quarantine_service.get(db, found.id),
                    error=None if result.ok else result.message, result=result)  # fmt: skip

    @app.post("/quarantine/{quarantine_id}/discard")
    def discard_quarantined(
        request: Request, quarantine_id: int, csrf: str = Form(""), reason: str = Form("")
    ) -> Response:
        ctx = deciding(request, csrf)
        found = _visible_quarantined(ctx, quarantine_id)
        try:
            quarantine_service.discard(db, quarantine_id, reason=_field(reason), by=ctx.user.username)
        except ServiceError as exc:
            return page(
                request, "quarantined.html", ctx, _status_of(exc), q=found, error=str(exc), result=None
            )
        return RedirectResponse(f"/quarantine/{quarantine_id}", status_code=303)

    # ------------------------------------------------------------------------------------------- overview

    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request) -> Response:
        ctx = signed_in(request)
        found = analytics_service.overview(db, ctx.scope)
        labels = [d.day for d in found.latency_days]
        chart = charts.line_chart(
            labels, [("p50", [d.p50_s for d in found.latency_days]), ("p99", [d.p99_s for d in found.latency_days])],
            "sync latency per day (seconds)", " s",
        )  # fmt: skip
        return page(request, "overview.html", ctx, o=found, chart=chart)

    # ------------------------------------------------------------------------------------------- analytics

    @app.get("/analytics", response_class=HTMLResponse)
    def analytics(request: Request, days: int = 14, tenant: str = "") -> Response:
        ctx = signed_in(request)
        if not 1 <= days <= 90:
            raise _Refused(400, "days is 1 to 90")
        if tenant and not ctx.user.can_see(tenant):
            raise NotFound(f"no tenant {tenant}")
        found = analytics_service.analytics(db, ctx.scope, days=days, tenant=tenant or None)
        labels = [d.day for d in found.calls_per_day]
        series = [(t, [float(d.by_tenant.get(t, 0)) for d in found.calls_per_day]) for t in found.tenants[:2]]
        graphs = {
            "calls": charts.line_chart(labels, series or [("calls", [0.0] * len(labels))], "calls per day"),
            "intents": charts.bar_chart(sorted(found.intents.items(), key=lambda kv: -kv[1]), "calls by intent"),
            "outcomes": charts.bar_chart(sorted(found.outcomes.items(), key=lambda kv: -kv[1]), "calls by outcome"),
            "sentiments": charts.bar_chart(sorted(found.sentiments.items()), "sentiment mix"),
            "corrected": charts.bar_chart(
                [(f.field, 100 * (f.corrected_rate or 0)) for f in found.fields if f.decided],
                "reviewer-corrected rate per field", " %",
            ),
            "latency": charts.line_chart(
                [d.day for d in found.latency_days],
                [("p50", [d.p50_s for d in found.latency_days]), ("p99", [d.p99_s for d in found.latency_days])],
                "sync latency per day (seconds)", " s",
            ),
        }  # fmt: skip
        visible = sorted(tenants) if ctx.scope is None else list(ctx.scope)
        return page(request, "analytics.html", ctx, a=found, graphs=graphs, days=days, tenant=tenant,
                    tenant_choices=visible)  # fmt: skip

    # ------------------------------------------------------------------------------------------- spot check

    @app.get("/spot-check", response_class=HTMLResponse)
    def spot_check(request: Request, week: str = "") -> Response:
        ctx = signed_in(request)
        chosen = week or analytics_service.iso_week(datetime.now(UTC))
        checks = analytics_service.spot_checks(db, ctx.scope, chosen[:20])
        history = analytics_service.spot_check_history(db, ctx.scope)
        fields = sorted({f for w in history for f in w.by_field})[:1]
        chart = charts.line_chart(
            [w.week for w in history],
            [("all fields, % wrong", [100 * w.error_rate if w.error_rate is not None else None for w in history]),
             *[(f"{f}, % wrong", [100 * w.by_field[f][1] / w.by_field[f][0] if f in w.by_field else None
                                   for w in history]) for f in fields]],
            "spot-check error rate per week", " %",
        )  # fmt: skip
        return page(request, "spot_check.html", ctx, week=chosen, checks=checks, history=history, chart=chart)

    @app.post("/spot-check/draw")
    def draw(request: Request, csrf: str = Form(""), week: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        chosen = analytics_service.check_week(_field(week) or analytics_service.iso_week(datetime.now(UTC)))
        analytics_service.draw_spot_check(db, ctx.scope, chosen)
        return RedirectResponse(f"/spot-check?week={quote(chosen)}", status_code=303)

    @app.post("/spot-check/{check_id}/mark")
    def mark(request: Request, check_id: int, csrf: str = Form(""), verdict: str = Form("")) -> Response:
        ctx = deciding(request, csrf)
        found = analytics_service.mark_spot_check(db, ctx.scope, check_id, verdict, ctx.user.username)
        return RedirectResponse(f"/spot-check?week={quote(found.week)}#check-{found.id}", status_code=303)

    # ------------------------------------------------------------------------------------------- mapping

    @app.get("/mapping", response_class=HTMLResponse)
    def mappings(request: Request) -> Response:
        ctx = signed_in(request)
        return page(
            request, "mapping.html", ctx, d=None, names=mapping_service.mapped_tenants(tenants, ctx.scope)
        )

    @app.get("/mapping/{tenant}", response_class=HTMLResponse)
    def mapping(request: Request, tenant: str) -> Response:
        ctx = signed_in(request)
        return page(
            request, "mapping.html", ctx, d=mapping_service.mapping_doc(tenants, tenant, ctx.scope), names=[]
        )

    # ------------------------------------------------------------------------------------------- feedback

    @app.get("/feedback", response_class=HTMLResponse)
    def feedback(request: Request) -> Response:
        ctx = signed_in(request)
        found = analytics_service.field_feedback(db, ctx.scope)
        suggestion = {f.field: f.suggested for f in found if f.change}
        return page(request, "feedback.html", ctx, fields=found, suggestion=suggestion)

    return app


def _field(text: str) -> str:
    """A short form field, trimmed; an over-long one is refused (400)."""
    if len(text) > MAX_FORM_TEXT:
        raise _Refused(400, f"a form field is at most {MAX_FORM_TEXT} characters")
    return text.strip()


def _safe_next(target: str) -> str:
    """Only a path of this site (no scheme, no //host): an open redirect is refused."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target or len(target) > 500:
        return "/"
    return target
