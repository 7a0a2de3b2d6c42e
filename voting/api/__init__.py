"""HTTP routes and websocket endpoints (docs/protocol.md). They call the session
(:class:`voting.session.service.SessionService`) and nothing else.

- :mod:`voting.api.app`: the app factory (limits, the one error shape, routers, sockets);
- :mod:`voting.api.bodies`: request bodies and the NUL check;
- :mod:`voting.api.deps`: the session and the caller's role as FastAPI dependencies;
- :mod:`voting.api.routes_deputies`, :mod:`voting.api.routes_ceremony`,
  :mod:`voting.api.routes_polls`, :mod:`voting.api.routes_record`: one router per area;
- :mod:`voting.api.sockets`: frames, errors and the staff handshake shared by the endpoints;
- :mod:`voting.api.ws_kiosk`, :mod:`voting.api.ws_trustee`, :mod:`voting.api.ws_display`:
  the three websockets, each dispatching its messages through one table.
"""
