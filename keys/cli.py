"""``renda keys``: trustee keys, offline, with belenios-tool 2.0's files.

``renda keys generate --group G`` is ``belenios-tool setup generate-trustee-key``;
``renda keys threshold --step N`` is ``belenios-tool setup generate-trustee-key-threshold``
(same options, same input and output files), so trustees may mix both tools.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from keys.group import BELENIOS_GROUPS, Group, GroupError, group_by_name
from keys.keyfile import (
    KeyFileError,
    generate_cert_files,
    generate_key_files,
    read_seed,
    read_text,
    write_decryption_key,
    write_file,
)
from keys.pki import PKIError, cert_id
from keys.threshold import (
    PedersenError,
    Polynomial,
    Vinput,
    Voutput,
    check_certs,
    make_polynomial,
    make_threshold_parameters,
    make_vinputs,
    make_voutput,
    parse_certs,
)

HELP = "trustee keys: generate a key, run a step of the threshold key ceremony (offline)"
EXAMPLES = """examples:
  renda keys generate --group BELENIOS-2048 --dir /tmp/trustee   # a single trustee key
  renda keys --help                         # the threshold ceremony's offline steps"""


THRESHOLD_EXAMPLES = """examples (each trustee in its own folder, steps in order):
  renda keys threshold --group BELENIOS-2048 --step 1 --dir t1   # a certificate and its key
  cat t*/*.cert > certs.txt                                      # everyone's certificates
  renda keys threshold --group BELENIOS-2048 --step 2 --certs certs.txt   # check them"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION")
    raw = argparse.RawDescriptionHelpFormatter
    what = "generate a single trustee key (ID.privkey, ID.pubkey)"
    gen = sub.add_parser(
        "generate",
        help=what,
        description=what,
        formatter_class=raw,
        epilog="example:\n  renda keys generate --group BELENIOS-2048 --dir /tmp/trustee",
    )
    what = "one step of the threshold ceremony (like generate-trustee-key-threshold)"
    thr = sub.add_parser(
        "threshold",
        help=what,
        description=what,
        formatter_class=raw,
        epilog=THRESHOLD_EXAMPLES,
    )
    for p in (gen, thr):
        p.add_argument(
            "--group", required=True, help="the group: " + " or ".join(sorted(BELENIOS_GROUPS))
        )
        p.add_argument("--dir", default=".", help="directory for the files written")
        p.add_argument("--allow-test-group", action="store_true", help=argparse.SUPPRESS)
    thr.add_argument("--step", type=int, required=True, choices=range(1, 7), metavar="1..6")
    thr.add_argument("--certs", help="file of certificates, one per line (steps 2-6)")
    thr.add_argument("--key", help="my threshold key file, ID.key (steps 3, 5)")
    thr.add_argument("--threshold", type=int, help="trustees needed to decrypt (step 3)")
    thr.add_argument("--polynomials", help="file of polynomials, one per line (steps 4, 6)")


def _need(value: str | int | None, option: str) -> str:
    if value is None:
        raise KeyFileError(f"{option} is mandatory for this step")
    return str(value)


def _lines(path: str, what: str) -> list[str]:
    return [line for line in read_text(path, what).split("\n") if line.strip()]


def _info(message: str) -> None:
    print(f"I: {message}", file=sys.stderr)


def _threshold_step(args: argparse.Namespace, group: Group) -> None:
    directory = Path(args.dir)
    step: int = args.step
    if step == 1:
        ident, cert_path, key_path = generate_cert_files(group, directory)
        _info(f"certificate {ident} has been generated")
        _info(f"certificate saved to {cert_path}; private key saved to {key_path}")
        return
    certs = parse_certs(group, _lines(_need(args.certs, "--certs"), "certificates"))
    if step == 2:
        check_certs(group, certs)
        _info("certificates are valid")
    elif step == 3:
        seed = read_seed(_need(args.key, "--key"))
        threshold = int(_need(args.threshold, "--threshold"))
        print(make_polynomial(group, certs, seed, threshold).serialize())
    elif step == 4:
        polys = [
            Polynomial.parse(group, line, f"polynomial {i + 1}")
            for i, line in enumerate(
                _lines(_need(args.polynomials, "--polynomials"), "polynomials")
            )
        ]
        for cert, vinput in zip(certs, make_vinputs(group, certs, polys), strict=True):
            path = directory / f"{cert_id(cert)}.vinput"
            write_file(path, vinput.serialize(), private=False)
            _info(f"wrote {path}")
    elif step == 5:
        seed = read_seed(_need(args.key, "--key"))
        vinput = Vinput.parse(group, sys.stdin.readline().strip())
        print(make_voutput(group, certs, seed, vinput).serialize())
    else:
        polys = [
            Polynomial.parse(group, line, f"polynomial {i + 1}")
            for i, line in enumerate(
                _lines(_need(args.polynomials, "--polynomials"), "polynomials")
            )
        ]
        voutputs = [
            Voutput.parse(group, line, f"voutput {i + 1}")
            for i, line in enumerate(x for x in sys.stdin.read().split("\n") if x.strip())
        ]
        params, dkeys = make_threshold_parameters(group, certs, polys, voutputs)
        for cert, dkey in zip(certs, dkeys, strict=True):
            path = directory / f"{cert_id(cert)}.dkey"
            write_decryption_key(path, dkey)
            _info(f"wrote {path}")
        print(params.serialize())


def run(args: argparse.Namespace) -> int:
    if args.keys_command not in ("generate", "threshold"):
        print(
            "renda keys: choose an action: generate or threshold (renda keys --help)",
            file=sys.stderr,
        )
        return 2
    try:
        group = group_by_name(args.group, allow_test=args.allow_test_group)
        Path(args.dir).mkdir(parents=True, exist_ok=True)  # the folder for the files written
        if args.keys_command == "generate":
            ident, priv, pub = generate_key_files(group, Path(args.dir))
            _info(f"keypair {ident} has been generated")
            _info(f"private key saved to {priv}; public key saved to {pub}")
        else:
            _threshold_step(args, group)
    except (KeyFileError, PedersenError, PKIError, GroupError, OSError) as exc:
        print(f"renda keys: error: {exc}", file=sys.stderr)
        return 1
    return 0
