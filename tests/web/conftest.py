from tests.pipeline.test_engine import make_harness

__all__ = ["make_harness"]
