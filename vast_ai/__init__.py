"""ERT's GPU tier: a FastAPI service that writes equity research reports with an LLM."""

__version__ = "0.1.0"
