"""The Pedersen threshold key ceremony of Belenios 2.0 (spec §3.1.1, §4.6.2–§4.6.7).

Pure functions, one per step, for the trustee side and the server side, mirroring
``belenios-tool setup generate-trustee-key-threshold --step N``:

1. trustee: :func:`generate_cert` → (seed, cert);           server: :func:`check_cert`
2. anyone: :func:`check_certs`
3. trustee: :func:`make_polynomial`;                         server: :func:`check_polynomial`
4. server: :func:`make_vinputs`
5. trustee: :func:`make_voutput`;                            server: :func:`check_voutput`
6. server: :func:`make_threshold_parameters` (and the per-trustee decryption key strings)

Later, :func:`decryption_key` opens a trustee's encrypted decryption key for decryption, and
:func:`check_threshold_parameters` checks a published ``threshold_parameters``.

``threshold`` is Belenios's: the number of trustees needed to decrypt (t + 1), which is also
the number of polynomial coefficients. Trustees are numbered from 1 in the order of the certs.
Every failure raises :class:`PedersenError` with a message that names the trustee concerned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gmpy2 import mpz

from keys.group import Group, GroupError, parse_natural, to_str
from keys.pki import (
    CertKeys,
    PKIError,
    SignedMsg,
    cert_keys,
    check_seed,
    derive_dk,
    derive_sk,
    dump_json,
    expect_list,
    expect_object,
    expect_string,
    generate_seed,
    load_json,
    make_cert,
    recv,
    send,
    sign,
    verify_signature,
)
from keys.trustee_key import (
    TrusteeKeyError,
    TrusteePublicKey,
    pok_is_valid,
    prove_trustee_key,
)

MAX_TRUSTEES = 1000


class PedersenError(ValueError):
    """A step of the threshold ceremony failed; the message says which trustee and why."""


# -- structures --------------------------------------------------------------------------


def _ints(group: Group, obj: Any, field: str, what: str, *, elements: bool) -> list[mpz]:
    o = expect_object(load_json(obj, what), what, (field,))
    items = expect_list(o[field], f"{what}.{field}")
    try:
        if elements:
            return [group.parse_element(x, f"{what}.{field}[{i}]") for i, x in enumerate(items)]
        return [parse_natural(x, f"{what}.{field}[{i}]") for i, x in enumerate(items)]
    except GroupError as exc:
        raise PKIError(str(exc)) from None


def _signed_list(group: Group, obj: Any, what: str) -> tuple[SignedMsg, ...]:
    items = expect_list(obj, what)
    return tuple(SignedMsg.from_json(group, x, f"{what}[{i + 1}]") for i, x in enumerate(items))


def _string_list(obj: Any, what: str) -> tuple[str, ...]:
    items = expect_list(obj, what)
    return tuple(expect_string(x, f"{what}[{i + 1}]") for i, x in enumerate(items))


@dataclass(frozen=True)
class Polynomial:
    """Output of step 3 (spec §4.6.4)."""

    polynomial: str
    secrets: tuple[str, ...]
    coefexps: SignedMsg

    def to_json(self) -> dict[str, Any]:
        return {
            "polynomial": self.polynomial,
            "secrets": list(self.secrets),
            "coefexps": self.coefexps.to_json(),
        }

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def parse(group: Group, text: str, what: str = "polynomial") -> Polynomial:
        try:
            o = expect_object(load_json(text, what), what, ("polynomial", "secrets", "coefexps"))
            return Polynomial(
                expect_string(o["polynomial"], f"{what}.polynomial"),
                _string_list(o["secrets"], f"{what}.secrets"),
                SignedMsg.from_json(group, o["coefexps"], f"{what}.coefexps"),
            )
        except PKIError as exc:
            raise PedersenError(str(exc)) from None


@dataclass(frozen=True)
class Vinput:
    """Input of step 5 for one trustee, computed by the server in step 4 (spec §4.6.5)."""

    polynomial: str
    secrets: tuple[str, ...]
    coefexps: tuple[SignedMsg, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "polynomial": self.polynomial,
            "secrets": list(self.secrets),
            "coefexps": [c.to_json() for c in self.coefexps],
        }

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def parse(group: Group, text: str, what: str = "vinput") -> Vinput:
        try:
            o = expect_object(load_json(text, what), what, ("polynomial", "secrets", "coefexps"))
            return Vinput(
                expect_string(o["polynomial"], f"{what}.polynomial"),
                _string_list(o["secrets"], f"{what}.secrets"),
                _signed_list(group, o["coefexps"], f"{what}.coefexps"),
            )
        except PKIError as exc:
            raise PedersenError(str(exc)) from None


@dataclass(frozen=True)
class Voutput:
    """Output of step 5 (spec §4.6.6): the encrypted decryption key and its public key."""

    private_key: str
    public_key: TrusteePublicKey

    def to_json(self) -> dict[str, Any]:
        return {"private_key": self.private_key, "public_key": self.public_key.to_json()}

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def parse(group: Group, text: str, what: str = "voutput") -> Voutput:
        try:
            o = expect_object(load_json(text, what), what, ("private_key", "public_key"))
            return Voutput(
                expect_string(o["private_key"], f"{what}.private_key"),
                TrusteePublicKey.from_json(group, o["public_key"], f"{what}.public_key"),
            )
        except (PKIError, TrusteeKeyError) as exc:
            raise PedersenError(str(exc)) from None


@dataclass(frozen=True)
class ThresholdParameters:
    """The published result of the ceremony (spec §4.6.7)."""

    threshold: int
    certs: tuple[SignedMsg, ...]
    coefexps: tuple[SignedMsg, ...]
    verification_keys: tuple[TrusteePublicKey, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "certs": [c.to_json() for c in self.certs],
            "coefexps": [c.to_json() for c in self.coefexps],
            "verification_keys": [k.to_json() for k in self.verification_keys],
        }

    def serialize(self) -> str:
        return dump_json(self.to_json())

    @staticmethod
    def from_json(
        group: Group, obj: Any, what: str = "threshold parameters"
    ) -> ThresholdParameters:
        """Structure, canonical numbers and group membership only; see
        :func:`check_threshold_parameters` for the cryptographic checks."""
        try:
            o = expect_object(obj, what, ("threshold", "certs", "coefexps", "verification_keys"))
            threshold = o["threshold"]
            if not isinstance(threshold, int) or isinstance(threshold, bool):
                raise PedersenError(f"{what}.threshold must be a JSON integer")
            vks = expect_list(o["verification_keys"], f"{what}.verification_keys")
            return ThresholdParameters(
                threshold,
                _signed_list(group, o["certs"], f"{what}.certs"),
                _signed_list(group, o["coefexps"], f"{what}.coefexps"),
                tuple(
                    TrusteePublicKey.from_json(group, k, f"{what}.verification_keys[{i + 1}]")
                    for i, k in enumerate(vks)
                ),
            )
        except (PKIError, TrusteeKeyError) as exc:
            raise PedersenError(str(exc)) from None

    @staticmethod
    def parse(group: Group, text: str, what: str = "threshold parameters") -> ThresholdParameters:
        try:
            obj = load_json(text, what)
        except PKIError as exc:
            raise PedersenError(str(exc)) from None
        return ThresholdParameters.from_json(group, obj, what)


# -- helpers -----------------------------------------------------------------------------


def parse_certs(group: Group, lines: Sequence[str]) -> tuple[SignedMsg, ...]:
    """Certificates, one JSON per line as in belenios-tool's ``certs.jsons``."""
    try:
        return tuple(
            SignedMsg.parse(group, line, f"certificate {i + 1}")
            for i, line in enumerate(x for x in lines if x.strip())
        )
    except PKIError as exc:
        raise PedersenError(str(exc)) from None


def check_cert(group: Group, cert: SignedMsg, what: str = "certificate") -> CertKeys:
    """Server side of step 1: the certificate is well formed and self-signed."""
    try:
        return cert_keys(group, cert, what)
    except PKIError as exc:
        raise PedersenError(str(exc)) from None


def check_certs(group: Group, certs: Sequence[SignedMsg]) -> list[CertKeys]:
    """Step 2: every certificate is valid and no key appears twice."""
    if not 1 <= len(certs) <= MAX_TRUSTEES:
        raise PedersenError(f"a threshold group needs 1 to {MAX_TRUSTEES} certificates")
    keys = [check_cert(group, c, f"certificate {i + 1}") for i, c in enumerate(certs)]
    seen: set[mpz] = set()
    for i, k in enumerate(keys):
        if k.verification in seen or k.encryption in seen:
            raise PedersenError(f"certificate {i + 1} repeats a key of an earlier certificate")
        seen.update((k.verification, k.encryption))
    return keys


def _my_index(group: Group, keys: Sequence[CertKeys], seed: str) -> tuple[int, mpz, mpz]:
    try:
        check_seed(seed)
    except PKIError as exc:
        raise PedersenError(str(exc)) from None
    sk, dk = derive_sk(seed), derive_dk(seed)
    vk, ek = group.g_pow(sk), group.g_pow(dk)
    for i, k in enumerate(keys):
        if k.verification == vk and k.encryption == ek:
            return i, sk, dk
    raise PedersenError("could not find my certificate among the certificates")


def _coefexps(
    group: Group, keys: Sequence[CertKeys], signed: Sequence[SignedMsg]
) -> list[list[mpz]]:
    """Check each coefexps signature by its trustee and return the coefficient commitments."""
    if len(signed) != len(keys):
        raise PedersenError(f"expected {len(keys)} coefexps, got {len(signed)}")
    out = []
    for i, (k, s) in enumerate(zip(keys, signed, strict=True)):
        if not verify_signature(group, k.verification, s):
            raise PedersenError(f"coefexps {i + 1} is not signed by trustee {i + 1}")
        try:
            out.append(_ints(group, s.message, "coefexps", f"coefexps {i + 1}", elements=True))
        except PKIError as exc:
            raise PedersenError(str(exc)) from None
    threshold = len(out[0])
    if not 1 <= threshold <= len(keys):
        raise PedersenError(f"threshold {threshold} is not between 1 and {len(keys)}")
    for i, c in enumerate(out):
        if len(c) != threshold:
            raise PedersenError(
                f"coefexps {i + 1} has {len(c)} coefficients, trustee 1 has {threshold}"
            )
    return out


def _eval_commitments(group: Group, coefexps: Sequence[mpz], j: int) -> mpz:
    """``prod_k (A_k)^(j^k)``: the commitment to ``f(j)`` (Horner's rule in the exponent)."""
    acc = mpz(1)
    for a in reversed(coefexps):
        acc = group.mul(group.pow(acc, j), a)
    return acc


def compute_verification_keys(group: Group, coefexps: Sequence[Sequence[mpz]]) -> list[mpz]:
    """Verification key of trustee j: ``prod_i prod_k (A_ik)^(j^k)`` (spec §4.6.6), computed
    as ``prod_k (prod_i A_ik)^(j^k)``."""
    n = len(coefexps)
    t = len(coefexps[0])
    combined = [mpz(1)] * t
    for c in coefexps:
        combined = [group.mul(b, a) for b, a in zip(combined, c, strict=True)]
    return [_eval_commitments(group, combined, j) for j in range(1, n + 1)]


def _eval_poly(group: Group, coefs: Sequence[mpz], x: int) -> mpz:
    acc = mpz(0)
    for a in reversed(coefs):
        acc = (acc * x + a) % group.q
    return acc


# -- step 1 ------------------------------------------------------------------------------


def generate_cert(group: Group) -> tuple[str, SignedMsg]:
    """Step 1 (trustee): a fresh secret seed and the certificate of its derived keys."""
    seed = generate_seed()
    return seed, make_cert(group, derive_sk(seed), derive_dk(seed))


# -- step 3 ------------------------------------------------------------------------------


def make_polynomial(
    group: Group, certs: Sequence[SignedMsg], seed: str, threshold: int
) -> Polynomial:
    """Step 3 (trustee): check the certs, pick a random polynomial of ``threshold``
    coefficients, send its shares to every trustee and sign the coefficient commitments."""
    keys = check_certs(group, certs)
    n = len(keys)
    if not 1 <= threshold <= n:
        raise PedersenError(f"the threshold must be between 1 and {n} (the number of trustees)")
    _, sk, dk = _my_index(group, keys, seed)
    ek = group.g_pow(dk)
    coefs = [group.random_exponent() for _ in range(threshold)]
    raw = dump_json({"polynomial": [to_str(a) for a in coefs]})
    polynomial = send(group, sk, ek, raw)
    secrets = tuple(
        send(group, sk, k.encryption, dump_json({"secret": to_str(_eval_poly(group, coefs, j))}))
        for j, k in enumerate(keys, start=1)
    )
    coefexps = sign(group, sk, dump_json({"coefexps": [to_str(group.g_pow(a)) for a in coefs]}))
    return Polynomial(polynomial, secrets, coefexps)


def check_polynomial(
    group: Group, certs: Sequence[SignedMsg], index: int, polynomial: Polynomial
) -> None:
    """Server side of step 3: the polynomial of trustee ``index`` (1-based) is signed by that
    trustee, has one secret per trustee and a valid threshold."""
    keys = check_certs(group, certs)
    n = len(keys)
    if not 1 <= index <= n:
        raise PedersenError(f"there is no trustee {index}")
    if len(polynomial.secrets) != n:
        raise PedersenError(
            f"polynomial of trustee {index} has {len(polynomial.secrets)} secrets, expected {n}"
        )
    if not verify_signature(group, keys[index - 1].verification, polynomial.coefexps):
        raise PedersenError(f"coefexps of trustee {index} is not signed by trustee {index}")
    try:
        c = _ints(group, polynomial.coefexps.message, "coefexps", "coefexps", elements=True)
    except PKIError as exc:
        raise PedersenError(f"polynomial of trustee {index}: {exc}") from None
    if not 1 <= len(c) <= n:
        raise PedersenError(f"polynomial of trustee {index} has a threshold outside 1..{n}")


# -- step 4 ------------------------------------------------------------------------------


def make_vinputs(
    group: Group, certs: Sequence[SignedMsg], polynomials: Sequence[Polynomial]
) -> list[Vinput]:
    """Step 4 (server): route the secrets; vinput j is for trustee j."""
    keys = check_certs(group, certs)
    n = len(keys)
    if len(polynomials) != n:
        raise PedersenError(
            f"expected {n} polynomials (one per certificate), got {len(polynomials)}"
        )
    for i, p in enumerate(polynomials, start=1):
        check_polynomial(group, certs, i, p)
    coefexps = tuple(p.coefexps for p in polynomials)
    _coefexps(group, keys, coefexps)  # same threshold everywhere
    return [
        Vinput(polynomials[j].polynomial, tuple(p.secrets[j] for p in polynomials), coefexps)
        for j in range(n)
    ]


# -- step 5 ------------------------------------------------------------------------------


def make_voutput(group: Group, certs: Sequence[SignedMsg], seed: str, vinput: Vinput) -> Voutput:
    """Step 5 (trustee): open every share sent to me, check each against its sender's
    commitments, and publish my verification key with the encrypted decryption key."""
    keys = check_certs(group, certs)
    n = len(keys)
    index, sk, dk = _my_index(group, keys, seed)
    j = index + 1
    vk, ek = group.g_pow(sk), group.g_pow(dk)
    try:
        own = _ints(
            group,
            recv(group, dk, vk, vinput.polynomial, "my polynomial"),
            "polynomial",
            "my polynomial",
            elements=False,
        )
    except PKIError as exc:
        raise PedersenError(str(exc)) from None
    threshold = len(own)
    if len(vinput.secrets) != n:
        raise PedersenError(f"the vinput has {len(vinput.secrets)} secrets, expected {n}")
    coefexps = _coefexps(group, keys, vinput.coefexps)
    if len(coefexps[0]) != threshold:
        raise PedersenError("the coefexps do not have the threshold of my polynomial")
    if [group.g_pow(a) for a in own] != coefexps[index]:
        raise PedersenError("my own coefexps in the vinput do not match my polynomial")
    total = mpz(0)
    for i, (text, k) in enumerate(zip(vinput.secrets, keys, strict=True)):
        what = f"secret {i + 1}"
        try:
            o = expect_object(
                load_json(recv(group, dk, k.verification, text, what), what), what, ("secret",)
            )
            s = parse_natural(o["secret"], what)
        except (PKIError, GroupError) as exc:
            raise PedersenError(str(exc)) from None
        if group.g_pow(s) != _eval_commitments(group, coefexps[i], j):
            raise PedersenError(f"secret {i + 1} does not match the coefexps of trustee {i + 1}")
        total += s
    total %= group.q
    private_key = send(group, sk, ek, dump_json({"decryption_key": to_str(total)}))
    return Voutput(private_key, prove_trustee_key(group, total))


def check_voutput(
    group: Group,
    certs: Sequence[SignedMsg],
    index: int,
    polynomials: Sequence[Polynomial],
    voutput: Voutput,
) -> None:
    """Server side of step 5 for trustee ``index`` (1-based)."""
    keys = check_certs(group, certs)
    if not 1 <= index <= len(keys):
        raise PedersenError(f"there is no trustee {index}")
    coefexps = _coefexps(group, keys, [p.coefexps for p in polynomials])
    _check_vk(
        group, index, voutput.public_key, compute_verification_keys(group, coefexps)[index - 1]
    )


def _check_vk(group: Group, index: int, tpk: TrusteePublicKey, expected: mpz) -> None:
    if not pok_is_valid(group, tpk):
        raise PedersenError(f"the proof of knowledge of trustee {index}'s key is invalid")
    if tpk.public_key != expected:
        raise PedersenError(f"the verification key of trustee {index} does not match the coefexps")


# -- step 6 ------------------------------------------------------------------------------


def make_threshold_parameters(
    group: Group,
    certs: Sequence[SignedMsg],
    polynomials: Sequence[Polynomial],
    voutputs: Sequence[Voutput],
) -> tuple[ThresholdParameters, list[str]]:
    """Step 6 (server): check every voutput and assemble the threshold parameters; also
    return each trustee's encrypted decryption key (the ``.dkey`` file contents)."""
    keys = check_certs(group, certs)
    n = len(keys)
    if len(polynomials) != n or len(voutputs) != n:
        raise PedersenError(
            f"expected {n} polynomials and {n} voutputs, got {len(polynomials)} and {len(voutputs)}"
        )
    coefexps = _coefexps(group, keys, [p.coefexps for p in polynomials])
    vks = compute_verification_keys(group, coefexps)
    for j, (vo, vk) in enumerate(zip(voutputs, vks, strict=True), start=1):
        _check_vk(group, j, vo.public_key, vk)
    params = ThresholdParameters(
        len(coefexps[0]),
        tuple(certs),
        tuple(p.coefexps for p in polynomials),
        tuple(vo.public_key for vo in voutputs),
    )
    return params, [vo.private_key for vo in voutputs]


def check_threshold_parameters(group: Group, params: ThresholdParameters) -> None:
    """All checks of a published threshold_parameters (Belenios's ``check_pedersen``): valid
    certs, coefexps signed by their trustees, proofs of knowledge, threshold, and each
    verification key consistent with the coefexps."""
    keys = check_certs(group, params.certs)
    n = len(keys)
    coefexps = _coefexps(group, keys, params.coefexps)
    if params.threshold != len(coefexps[0]):
        raise PedersenError(
            f"threshold is {params.threshold} but the polynomials have {len(coefexps[0])} "
            "coefficients"
        )
    if len(params.verification_keys) != n:
        raise PedersenError(f"expected {n} verification keys, got {len(params.verification_keys)}")
    for j, (tpk, vk) in enumerate(
        zip(params.verification_keys, compute_verification_keys(group, coefexps), strict=True),
        start=1,
    ):
        _check_vk(group, j, tpk, vk)


def threshold_public_key(group: Group, params: ThresholdParameters) -> mpz:
    """The sub-key of a Pedersen item: ``prod_z A_z0`` (signatures not checked here)."""
    y = mpz(1)
    for i, s in enumerate(params.coefexps, start=1):
        try:
            c = _ints(group, s.message, "coefexps", f"coefexps {i}", elements=True)
        except PKIError as exc:
            raise PedersenError(str(exc)) from None
        if not c:
            raise PedersenError(f"coefexps {i} is empty")
        y = group.mul(y, c[0])
    return y


# -- after the ceremony --------------------------------------------------------------------


def decryption_key(group: Group, seed: str, dkey: str) -> mpz:
    """Open a trustee's encrypted decryption key (``.dkey``) with its seed (``.key``).

    Belenios writes the sum of the shares without reducing it modulo q; both are accepted and
    the key is returned reduced."""
    try:
        check_seed(seed)
        sk, dk = derive_sk(seed), derive_dk(seed)
        text = recv(group, dk, group.g_pow(sk), dkey.strip(), "decryption key")
        o = expect_object(load_json(text, "decryption key"), "decryption key", ("decryption_key",))
        return parse_natural(o["decryption_key"], "decryption key") % group.q
    except (PKIError, GroupError) as exc:
        raise PedersenError(str(exc)) from None
