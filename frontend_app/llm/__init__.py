"""The LLM integrations that write a report's text, and the fallback chain between them."""
