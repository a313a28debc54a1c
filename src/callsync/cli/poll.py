"""`callsync poll`: the polling fallback for platforms whose webhooks may be sent once or lost."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import httpx
import typer

from callsync.cli.common import DbOption, app, fail, open_database, out
from callsync.cli.serve import TenantsDirOption, ingest_tenants


@app.command()
def poll(
    platform: Annotated[str, typer.Option(help="vapi or retell.")],
    db: DbOption = None,
    tenants: TenantsDirOption = None,
    tenant: Annotated[list[str] | None, typer.Option(help="Only these tenants (repeatable).")] = None,
    base_url: Annotated[
        str | None, typer.Option(help="The platform API's base URL (an emulator in tests).")
    ] = None,
    settle: Annotated[
        float, typer.Option(min=0.0, help="Seconds a call must have ended for (analysis done).")
    ] = 60.0,
    overlap: Annotated[float, typer.Option(min=0.0, help="Seconds re-read before the cursor.")] = 300.0,
    lookback: Annotated[
        float, typer.Option(min=1.0, help="How far back the first poll reads, in seconds.")
    ] = 86400.0,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per tenant.")] = False,
) -> None:
    """Pull ended calls since the stored cursor from the platform's list-calls endpoint and ingest them
    exactly as webhooks would be (a call already received is a duplicate). Each tenant needs an API key
    (`api_keys` in its file; the demo tenant: $CALLSYNC_VAPI_API_KEY / $CALLSYNC_RETELL_API_KEY)."""
    from callsync.route.poller import POLLABLE
    from callsync.route.poller import poll as run_poll

    if platform not in POLLABLE:
        raise fail(f"polling supports {', '.join(POLLABLE)}, not {platform!r}")
    configs = ingest_tenants(tenants)
    if not any(t.api_key(platform) for t in configs.values() if not tenant or t.name in tenant):
        names = ", ".join(
            f"{t.name}: ${t.api_keys[platform]}" for t in configs.values() if platform in t.api_keys
        )
        raise fail(f"no tenant has a {platform} API key in its environment ({names or 'none configured'})")
    with open_database(db) as database:
        try:
            results = run_poll(
                database, configs, platform, only=tenant, base_url=base_url, settle_s=settle, overlap_s=overlap,
                lookback_s=lookback,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise fail(f"{platform} list-calls failed: {exc}") from exc
    for r in results:
        if as_json:
            sys.stdout.write(json.dumps({"tenant": r.tenant, "platform": r.platform, "cursor": r.cursor,
                                         "pending": r.pending, **dict(r.counts)}) + "\n")  # fmt: skip
        else:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(r.counts.items())) or "nothing new"
            out.print(f"{r.tenant} {r.platform}: {counts}; {r.pending} not yet settled; cursor {r.cursor}")
