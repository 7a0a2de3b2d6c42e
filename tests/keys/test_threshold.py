"""The Pedersen key ceremony: every step, every check, and tampering refused."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from keys import pki
from keys import threshold as T
from keys.group import Group
from keys.pki import SignedMsg, sign
from keys.proof import Proof
from keys.threshold import PedersenError
from tests.trustees.ceremony import run_ceremony


@pytest.mark.parametrize(("n", "k"), [(3, 2), (5, 3), (1, 1), (3, 3)])
def test_ceremony_shares_reconstruct_the_key(group: Group, n: int, k: int) -> None:
    c = run_ceremony(group, n, k)
    T.check_threshold_parameters(group, c.params)
    assert c.params.threshold == k
    params = T.ThresholdParameters.parse(group, c.params.serialize())
    assert params == c.params
    y = T.threshold_public_key(group, c.params)
    keys = c.private_keys(group)
    for j, (x, vk) in enumerate(zip(keys, c.params.verification_keys, strict=True)):
        assert group.g_pow(x) == vk.public_key, f"trustee {j + 1}"
    # any k shares interpolate the secret key at 0
    from tally.decryption import lagrange

    for subset in itertools.combinations(range(1, n + 1), k):
        secret = sum(lagrange(group, subset, z) * keys[z - 1] for z in subset) % group.q
        assert group.g_pow(secret) == y
    # k - 1 shares do not (with overwhelming probability)
    if k > 1:
        subset = tuple(range(1, k))
        secret = sum(lagrange(group, subset, z) * keys[z - 1] for z in subset) % group.q
        assert group.g_pow(secret) != y


def test_structures_round_trip(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    for p in c.polynomials:
        assert T.Polynomial.parse(group, p.serialize()) == p
    for v in c.vinputs:
        assert T.Vinput.parse(group, v.serialize()) == v
    for vo in c.voutputs:
        assert T.Voutput.parse(group, vo.serialize()) == vo
    assert c.params.serialize().startswith('{"threshold":2,"certs":[{"message":"{\\"verification')


def test_tampered_cert_refused(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    bad = SignedMsg(c.certs[1].message, Proof(c.certs[1].signature.challenge, 1))
    certs = [c.certs[0], bad, c.certs[2]]
    with pytest.raises(PedersenError, match="certificate 2 is not signed by its own"):
        T.check_certs(group, certs)
    with pytest.raises(PedersenError, match="certificate 2"):
        T.make_polynomial(group, certs, c.seeds[0], 2)
    with pytest.raises(PedersenError, match="repeats a key"):
        T.check_certs(group, [c.certs[0], c.certs[0]])
    params = dataclasses.replace(c.params, certs=tuple(certs))
    with pytest.raises(PedersenError, match="certificate 2"):
        T.check_threshold_parameters(group, params)


def test_wrong_threshold_or_stranger_refused(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    for t in (0, 4):
        with pytest.raises(PedersenError, match="threshold"):
            T.make_polynomial(group, c.certs, c.seeds[0], t)
    stranger, _ = T.generate_cert(group)
    with pytest.raises(PedersenError, match="could not find my certificate"):
        T.make_polynomial(group, c.certs, stranger, 2)
    with pytest.raises(PedersenError, match="could not find my certificate"):
        T.make_voutput(group, c.certs, stranger, c.vinputs[0])


def test_tampered_polynomial_refused(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    # coefexps re-signed by another trustee
    forged = sign(group, 12345, c.polynomials[1].coefexps.message)
    bad = dataclasses.replace(c.polynomials[1], coefexps=forged)
    with pytest.raises(PedersenError, match="coefexps of trustee 2 is not signed by trustee 2"):
        T.check_polynomial(group, c.certs, 2, bad)
    with pytest.raises(PedersenError, match="trustee 2"):
        T.make_vinputs(group, c.certs, [c.polynomials[0], bad, c.polynomials[2]])
    short = dataclasses.replace(c.polynomials[0], secrets=c.polynomials[0].secrets[:2])
    with pytest.raises(PedersenError, match="2 secrets, expected 3"):
        T.check_polynomial(group, c.certs, 1, short)
    with pytest.raises(PedersenError, match="expected 3 polynomials"):
        T.make_vinputs(group, c.certs, c.polynomials[:2])
    # a polynomial with another threshold
    other = T.make_polynomial(group, c.certs, c.seeds[2], 3)
    with pytest.raises(PedersenError, match="coefficients"):
        T.make_vinputs(group, c.certs, [c.polynomials[0], c.polynomials[1], other])


def test_wrong_share_detected_by_recipient(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    # trustee 1 signs honest coefexps but sends trustee 3 the share meant for trustee 2
    p1 = c.polynomials[0]
    cheat = dataclasses.replace(p1, secrets=(p1.secrets[0], p1.secrets[1], p1.secrets[1]))
    vinputs = T.make_vinputs(group, c.certs, [cheat, c.polynomials[1], c.polynomials[2]])
    T.make_voutput(group, c.certs, c.seeds[0], vinputs[0])
    with pytest.raises(PedersenError):  # not even addressed to trustee 3
        T.make_voutput(group, c.certs, c.seeds[2], vinputs[2])
    # a share properly sent to trustee 3 but not on trustee 1's polynomial
    ek3 = pki.cert_keys(group, c.certs[2]).encryption
    wrong = pki.send(group, pki.derive_sk(c.seeds[0]), ek3, '{"secret":"12345"}')
    cheat = dataclasses.replace(p1, secrets=(p1.secrets[0], p1.secrets[1], wrong))
    vinputs = T.make_vinputs(group, c.certs, [cheat, c.polynomials[1], c.polynomials[2]])
    with pytest.raises(PedersenError, match="secret 1 does not match the coefexps of trustee 1"):
        T.make_voutput(group, c.certs, c.seeds[2], vinputs[2])
    # swapped vinputs: trustee 1 cannot open trustee 2's polynomial
    with pytest.raises(PedersenError, match="does not decrypt"):
        T.make_voutput(group, c.certs, c.seeds[0], c.vinputs[1])


def test_tampered_voutput_refused(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    vo = c.voutputs[1]
    wrong_key = dataclasses.replace(vo, public_key=c.voutputs[0].public_key)
    with pytest.raises(PedersenError, match="verification key of trustee 2 does not match"):
        T.check_voutput(group, c.certs, 2, c.polynomials, wrong_key)
    bad_pok = dataclasses.replace(
        vo,
        public_key=dataclasses.replace(
            vo.public_key, pok=Proof(vo.public_key.pok.challenge, vo.public_key.pok.response ^ 1)
        ),
    )
    with pytest.raises(PedersenError, match="proof of knowledge of trustee 2"):
        T.check_voutput(group, c.certs, 2, c.polynomials, bad_pok)
    with pytest.raises(PedersenError, match="trustee 2"):
        T.make_threshold_parameters(
            group, c.certs, c.polynomials, [c.voutputs[0], bad_pok, c.voutputs[2]]
        )


def test_tampered_threshold_parameters_refused(group: Group) -> None:
    c = run_ceremony(group, 3, 2)
    p = c.params
    with pytest.raises(PedersenError, match="threshold is 3"):
        T.check_threshold_parameters(group, dataclasses.replace(p, threshold=3))
    swapped = (p.verification_keys[1], p.verification_keys[0], p.verification_keys[2])
    with pytest.raises(PedersenError, match="verification key of trustee 1"):
        T.check_threshold_parameters(group, dataclasses.replace(p, verification_keys=swapped))
    coefs = (p.coefexps[1], p.coefexps[0], p.coefexps[2])
    with pytest.raises(PedersenError, match="coefexps 1 is not signed by trustee 1"):
        T.check_threshold_parameters(group, dataclasses.replace(p, coefexps=coefs))
    with pytest.raises(PedersenError, match="expected 3 verification keys"):
        T.check_threshold_parameters(
            group, dataclasses.replace(p, verification_keys=p.verification_keys[:2])
        )


def test_decryption_key_needs_the_right_seed(group: Group) -> None:
    c = run_ceremony(group, 2, 1)
    with pytest.raises(PedersenError):
        T.decryption_key(group, c.seeds[0], c.dkeys[1])
    with pytest.raises(PedersenError):
        T.decryption_key(group, "not a seed", c.dkeys[0])
