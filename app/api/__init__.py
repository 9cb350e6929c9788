"""The web layer: REST routes, the live channel, the pages, and what guards them (errors, limits, the
host check, client cookies).

Layer: API — imports ``app.sessions``, ``app.schemas`` and ``app.wire``; the engine only for its error type.
"""
