"""The career-fair search widget: ``talentmatch.js`` (a custom element, no build step, no
framework) and the demo page that embeds it; the API serves both (``api/routers/widget.py``)."""
