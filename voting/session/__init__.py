"""The session's jobs, one module each, over one shared context; the façade that builds them
is :class:`voting.session.service.SessionService` (its docstring lists the layers)."""
