"""Scale-out: several worker processes behind nginx, sharing state through Redis.

Layer: cluster — beside the top (``app.main``, ``app.cli``): it imports ``app.sessions`` and ``app.api`` and plugs
shared versions of their parts in; nothing below imports it. Used only with ``serve --workers N`` or
``BPP_REDIS_URL``; one process (``make run``, plain ``serve``) never touches Redis.

- ``supervisor``: ``backprop-playground serve --workers N`` starts redis-server (unless ``BPP_REDIS_URL``),
  N workers on loopback ports and nginx in front, restarts a worker that dies, stops them all together.
- ``nginx``: renders ``deploy/nginx.conf.j2`` — a ``map`` reads the worker tag at the start of a session id
  (``w2.…``) and sends every request and websocket for that session to its worker; new sessions spread.
- ``state``: what the workers share in Redis — checkpoints (``RedisDatabase``, in place of SQLite), counts and
  budgets behind the server-wide limits (``SharedCounts``), the client-cookie key, and each worker's lease on
  its tag, so that a session never has two owners.
"""
