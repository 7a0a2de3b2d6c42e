"""What a scrutineer's tool reads from the person at it: the token (``--token-file``,
``$RENDA_TRUSTEE_TOKEN`` or typed), the key file's passphrase (``$RENDA_TRUSTEE_PASSPHRASE`` or
typed), and what it tells that person: the count report it signs, why a connection failed
(voting/cli_trustee.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys

from tally import messages as m

TOKEN_ENV = "RENDA_TRUSTEE_TOKEN"
PASSPHRASE_ENV = "RENDA_TRUSTEE_PASSPHRASE"

DESCRIPTION = (
    "A scrutineer's (监票人) side of the session: `ceremony` makes this scrutineer's share of\n"
    "the session key with the others (once, before the first poll), then `decrypt` stays\n"
    "connected and, for each closed poll, checks the tally against the public record,\n"
    "decrypts its share and signs the count report (计票结果报告单)."
)
EXAMPLES = f"""examples:
  renda trustee ceremony --server http://127.0.0.1:8750 --key ~/scrutineer-1.key \\
      --token-file ~/token-1.txt      # the token the secretariat gave (or ${TOKEN_ENV})
  renda trustee decrypt --key ~/scrutineer-1.key      # during the session
The key file is sealed with a passphrase (${PASSPHRASE_ENV}, else asked for); the token is
kept inside it, never in clear and never on the command line."""


class TrusteeError(Exception):
    """Something this scrutineer refuses to do, in plain words."""


def token_from(args: argparse.Namespace) -> str | None:
    """The token of ``--token-file F`` or $RENDA_TRUSTEE_TOKEN (TrusteeError if the file cannot
    be read); None if neither is given."""
    if args.token_file is not None:
        try:
            lines = args.token_file.read_text("utf-8").split()
        except (OSError, UnicodeDecodeError) as exc:
            raise TrusteeError(f"cannot read the token file: {exc}") from None
        if not lines:
            raise TrusteeError(f"the token file {args.token_file} is empty")
        return str(lines[0])
    token = os.environ.get(TOKEN_ENV)
    return str(token) if token else None


def ask_secret(prompt: str, what: str, env: str) -> str:
    """A secret typed at the terminal; TrusteeError when there is no terminal."""
    if not sys.stdin.isatty():
        raise TrusteeError(f"no terminal to ask for the {what}: set ${env}")
    import getpass

    value = getpass.getpass(prompt)
    if not value:
        raise TrusteeError(f"the {what} must not be empty")
    return value


def passphrase_from_env_or_prompt(*, confirm: bool = False) -> str:
    """The key file's passphrase: $RENDA_TRUSTEE_PASSPHRASE, else asked (twice for a new file)."""
    value = os.environ.get(PASSPHRASE_ENV)
    if value:
        return value
    what = "key file's passphrase"
    first = ask_secret("密钥文件密码 (key file passphrase): ", what, PASSPHRASE_ENV)
    if confirm and ask_secret("再次输入 (again): ", what, PASSPHRASE_ENV) != first:
        raise TrusteeError("the two passphrases differ")
    return first


def check_token(token: str) -> str:
    """``token`` if it has the shape of a token (the protocol's bounds), else TrusteeError."""
    from pydantic import ValidationError

    try:
        m.Auth(id="check", token=token)
    except ValidationError as exc:
        problem = exc.errors()[0].get("msg", "malformed")
        raise TrusteeError(
            f"this is not a scrutineer token ({problem.lower()}); copy it again from the "
            "secretariat's sheet"
        ) from None
    return token


def describe_report(text: str) -> str:
    """The count report a scrutineer signs, as lines a person reads before trusting it."""
    from tally.report_signatures import parse_report_text

    try:
        report = parse_report_text(text)
    except ValueError as exc:
        return f"  (unreadable count report: {exc})"
    counts = report.get("counts") or {}
    outcome = report.get("outcome") or {}
    labels = {
        "total": "应到 total",
        "present": "实到 present",
        "issued": "发出 issued",
        "received": "收回 received",
    }
    lines = [f"  poll {report['poll_id']} (uuid {report['uuid']}), session {report['session']}"]
    if isinstance(counts, dict):
        figures = [f"{labels[k]} {counts[k]}" for k in labels if k in counts]
        lines.append("  " + ", ".join(figures))
        if "result" in counts:
            lines.append(f"  result 结果: {json.dumps(counts['result'], ensure_ascii=False)}")
    if isinstance(outcome, dict):
        lines.append(f"  verdict 结论: {outcome.get('verdict')}")
        for item in outcome.get("items") or []:
            if isinstance(item, dict):
                votes = {k: item[k] for k in ("yes", "no", "abstain", "votes") if k in item}
                name = item.get("name") or item.get("id")
                lines.append(f"    {name}: {item.get('status')} {votes if votes else ''}".rstrip())
    if report.get("method"):  # tally.manual_count: what this signature vouches for
        lines.append(
            f"  手工计票 counted by hand ({report['method']}): 数字须与纸质计票单一致 (the "
            "figures are your word, checked against the paper tally; no archive)"
        )
    else:
        lines.append(f"  result hash {report['result_hash']}")
    return "\n".join(lines)


def why_not_connected(exc: BaseException) -> str:
    """Why a connection failed, in a few plain words."""
    import socket

    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is not None:
        return f"the server answered HTTP {status} (is the URL that of a renda server?)"
    if isinstance(exc, socket.gaierror):
        return "unknown host name"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (no server listening there)"
    if isinstance(exc, TimeoutError):
        return "no answer (timed out)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
