"""The end-to-end harness (HubSpot sandbox over HTTP + a DBOS worker) is shared with tests/write."""

from tests.pipeline.test_engine import make_harness

__all__ = ["make_harness"]
